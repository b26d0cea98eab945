package dev.buildfarm.agent.docker;

import dev.buildfarm.common.Platform;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites each FROM of a Dockerfile to the image id of the base pulled for the right platform.
 *
 * The classic builder resolves FROM by local tag, and one tag holds one platform at a time: two
 * platforms building on one engine can swap each other's base. Pinning to the immutable id of the
 * variant pulled for this platform (or for a stage's own --platform) removes the race, and also
 * records exactly which base each platform used.
 */
public final class BaseImagePinning {

    /** Pulls a reference for a platform and returns the image id. */
    @FunctionalInterface
    public interface Resolver {
        String imageId(String reference, Platform platform) throws InterruptedException;
    }

    public record Pin(String reference, Platform platform, String imageId) {
    }

    public record Result(String dockerfile, List<Pin> pins) {
    }

    private static final Pattern VARIABLE = Pattern.compile("\\$(?:\\{([A-Za-z_][A-Za-z0-9_]*)}|([A-Za-z_][A-Za-z0-9_]*))");

    private BaseImagePinning() {
    }

    /**
     * @param args build arguments, including the automatic TARGET and BUILD platform ones
     */
    public static Result pin(String dockerfile, Map<String, String> args, Platform target, Resolver resolver)
            throws InterruptedException {
        Map<String, String> globalArgs = new HashMap<>();
        Set<String> stages = new HashSet<>();
        List<Pin> pins = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        boolean seenFrom = false;
        for (String line : logicalLines(dockerfile)) {
            String trimmed = line.strip();
            String[] words = trimmed.split("\\s+");
            String instruction = words[0].toUpperCase(Locale.ROOT);
            if (!seenFrom && instruction.equals("ARG")) {
                for (int i = 1; i < words.length; i++) {
                    String[] kv = words[i].split("=", 2);
                    String value = args.containsKey(kv[0]) ? args.get(kv[0]) : kv.length == 2 ? unquote(kv[1]) : null;
                    if (value != null) {
                        globalArgs.put(kv[0], value);
                    }
                }
            }
            if (!instruction.equals("FROM")) {
                out.append(line).append('\n');
                continue;
            }
            seenFrom = true;
            List<String> flags = new ArrayList<>();
            int i = 1;
            while (i < words.length && words[i].startsWith("--")) {
                flags.add(words[i++]);
            }
            if (i >= words.length) {
                out.append(line).append('\n');
                continue;
            }
            String image = words[i];
            String stage = i + 2 < words.length && words[i + 1].equalsIgnoreCase("AS") ? words[i + 2] : null;
            Map<String, String> scope = new HashMap<>(args);
            scope.putAll(globalArgs);
            String expanded = expand(image, scope);
            Platform platform = target;
            for (String flag : flags) {
                if (flag.startsWith("--platform=")) {
                    String value = expand(flag.substring("--platform=".length()), scope);
                    platform = value.contains("$") ? null : Platform.parse(value);
                }
            }
            boolean pinnable = platform != null && !expanded.contains("$")
                    && !expanded.equalsIgnoreCase("scratch") && !stages.contains(expanded.toLowerCase(Locale.ROOT));
            if (pinnable) {
                String id = resolver.imageId(expanded, platform);
                pins.add(new Pin(expanded, platform, id));
                StringBuilder from = new StringBuilder(words[0]);
                flags.forEach(f -> from.append(' ').append(f));
                from.append(' ').append(id);
                if (stage != null) {
                    from.append(" AS ").append(stage);
                }
                out.append(from).append('\n');
            } else {
                out.append(line).append('\n');
            }
            if (stage != null) {
                stages.add(stage.toLowerCase(Locale.ROOT));
            }
        }
        return new Result(out.toString(), pins);
    }

    /** Lines with backslash continuations joined; comments and blank lines kept as they are. */
    static List<String> logicalLines(String dockerfile) {
        List<String> lines = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String physical : dockerfile.split("\r?\n", -1)) {
            String stripped = physical.stripTrailing();
            if (current.isEmpty() && (stripped.isBlank() || stripped.stripLeading().startsWith("#"))) {
                lines.add(physical);
                continue;
            }
            if (stripped.endsWith("\\")) {
                current.append(stripped, 0, stripped.length() - 1).append(' ');
            } else {
                current.append(physical);
                lines.add(current.toString());
                current.setLength(0);
            }
        }
        if (!current.isEmpty()) {
            lines.add(current.toString());
        }
        // split(-1) leaves one empty string after a final newline.
        if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        return lines;
    }

    static String expand(String value, Map<String, String> scope) {
        Matcher m = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            String replacement = scope.getOrDefault(name, m.group());
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"") || value.startsWith("'") && value.endsWith("'"))) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }
}
