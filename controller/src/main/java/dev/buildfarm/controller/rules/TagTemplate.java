package dev.buildfarm.controller.rules;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An image tag template: literal text and `${name}` references to named groups of the rule's
 * ref pattern, e.g. "${major}.${minor}.${version}". A '$' not followed by '{' is literal.
 */
public final class TagTemplate {

    /** Java's group name syntax. */
    private static final Pattern GROUP_NAME = Pattern.compile("[a-zA-Z][a-zA-Z0-9]*");

    private record Part(String text, boolean group) {
    }

    private final List<Part> parts;

    private TagTemplate(List<Part> parts) {
        this.parts = parts;
    }

    /**
     * @throws IllegalArgumentException saying where the template is broken
     */
    public static TagTemplate parse(String template) {
        if (template.isEmpty()) {
            throw new IllegalArgumentException("is required, e.g. latest or ${version}");
        }
        List<Part> parts = new ArrayList<>();
        int i = 0;
        while (i < template.length()) {
            int start = template.indexOf("${", i);
            if (start < 0) {
                parts.add(new Part(template.substring(i), false));
                break;
            }
            if (start > i) {
                parts.add(new Part(template.substring(i, start), false));
            }
            int end = template.indexOf('}', start);
            if (end < 0) {
                throw new IllegalArgumentException("'" + template + "': '${' at index " + start + " is not closed by '}'");
            }
            String name = template.substring(start + 2, end);
            if (!GROUP_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("'" + template + "': '${" + name + "}' at index " + start
                        + " is not a group name (a letter, then letters or digits)");
            }
            parts.add(new Part(name, true));
            i = end + 1;
        }
        return new TagTemplate(List.copyOf(parts));
    }

    /** The group names the template refers to. */
    public Set<String> groups() {
        Set<String> names = new LinkedHashSet<>();
        parts.stream().filter(Part::group).forEach(p -> names.add(p.text()));
        return names;
    }

    /** A group missing from values renders empty, like one that took no part in the match. */
    public String render(Map<String, String> values) {
        StringBuilder out = new StringBuilder();
        for (Part part : parts) {
            out.append(part.group() ? values.getOrDefault(part.text(), "") : part.text());
        }
        return out.toString();
    }
}
