package dev.buildfarm.controller.rules;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A rule's branch or tag pattern: an exact name, or a Java regular expression with named groups
 * `(?<name>Expression)` matched against the whole name (not a substring).
 *
 * <p>A pattern without regex syntax is exact, so "release-1.0" means that branch and not "release-1x0":
 * a '.' in a branch name is nearly always meant literally.
 */
public final class RefPattern {

    /** Characters that make a pattern a regular expression. */
    private static final String REGEX_SYNTAX = "\\^$*+?()[]{}|";
    /** Steps a single match may take before it is abandoned (a guard against catastrophic backtracking). */
    static final int MAX_MATCH_STEPS = 1_000_000;

    private final String source;
    private final Pattern regex;
    private final Set<String> groups;
    private final String literalPrefix;

    private RefPattern(String source, Pattern regex, Set<String> groups) {
        this.source = source;
        this.regex = regex;
        this.groups = groups;
        this.literalPrefix = regex == null ? source : literalPrefix(source);
    }

    /**
     * @throws IllegalArgumentException saying what is wrong and where
     */
    public static RefPattern compile(String pattern) {
        if (pattern.isEmpty()) {
            throw new IllegalArgumentException("is required: a branch or tag name, or a regular expression");
        }
        if (pattern.length() > 255) {
            throw new IllegalArgumentException("is longer than 255 characters");
        }
        if (pattern.startsWith("refs/")) {
            throw new IllegalArgumentException("'" + pattern + "' must be a branch or tag name without refs/heads/ or refs/tags/");
        }
        if (!isRegex(pattern)) {
            checkExactName(pattern);
            return new RefPattern(pattern, null, Set.of());
        }
        try {
            Pattern compiled = Pattern.compile(pattern);
            return new RefPattern(pattern, compiled, Collections.unmodifiableSet(namedGroups(pattern)));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("'" + pattern + "' is not a valid regular expression: " + e.getDescription()
                    + (e.getIndex() >= 0 ? " at index " + e.getIndex() : ""));
        }
    }

    public static boolean isRegex(String pattern) {
        return pattern.chars().anyMatch(c -> REGEX_SYNTAX.indexOf(c) >= 0);
    }

    public boolean isRegex() {
        return regex != null;
    }

    public String source() {
        return source;
    }

    /**
     * Text that every name this pattern matches starts with ("release-" for
     * {@code release-(?<v>\w+)}, "" for {@code (a|b)-x}); an exact name is its own prefix.
     */
    public String literalPrefix() {
        return literalPrefix;
    }

    /** Names of the pattern's named groups, in order of appearance. */
    public Set<String> groups() {
        return groups;
    }

    /**
     * Matches a whole branch or tag name (no refs/ prefix). Answers the named groups' values; a group
     * that took no part in the match is "".
     */
    public Optional<Map<String, String>> match(String name) {
        if (regex == null) {
            return source.equals(name) ? Optional.of(Map.of()) : Optional.empty();
        }
        Matcher m = regex.matcher(new BoundedCharSequence(name, MAX_MATCH_STEPS));
        try {
            if (!m.matches()) {
                return Optional.empty();
            }
        } catch (BoundedCharSequence.TooManySteps e) {
            return Optional.empty();
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String group : groups) {
            String value = m.group(group);
            values.put(group, value == null ? "" : value);
        }
        return Optional.of(values);
    }

    /**
     * The pattern's leading literal characters: up to the first construct that is not one plain
     * character (a class, a group, '.', an anchor, an escape such as \d), without a character that a
     * quantifier makes optional or repeats. Conservative: a shorter prefix only costs a few more
     * regexes tried, a wrong one would miss a match. Alternation at the top level has no common prefix.
     */
    static String literalPrefix(String pattern) {
        if (hasTopLevelAlternation(pattern)) {
            return "";
        }
        StringBuilder prefix = new StringBuilder();
        // With matches(), a leading ^ anchors nothing more than the whole-name match already does.
        int i = pattern.startsWith("^") ? 1 : 0;
        while (i < pattern.length()) {
            char c = pattern.charAt(i);
            char literal;
            int next;
            if (c == '\\') {
                // A backslash before a non-alphanumeric character quotes it; before a letter or digit it is a construct.
                if (i + 1 >= pattern.length() || Character.isLetterOrDigit(pattern.charAt(i + 1)) || pattern.charAt(i + 1) > 0x7f) {
                    break;
                }
                literal = pattern.charAt(i + 1);
                next = i + 2;
            } else if (c == '.' || c > 0x7f || REGEX_SYNTAX.indexOf(c) >= 0) {
                break;
            } else {
                literal = c;
                next = i + 1;
            }
            if (next < pattern.length() && "?*+{".indexOf(pattern.charAt(next)) >= 0) {
                break;
            }
            prefix.append(literal);
            i = next;
        }
        return prefix.toString();
    }

    /** Whether a '|' outside every group, class and quote splits the whole pattern. */
    private static boolean hasTopLevelAlternation(String pattern) {
        int depth = 0;
        int classDepth = 0;
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\\') {
                i = lastOfEscape(pattern, i);
            } else if (c == '[') {
                classDepth++;
            } else if (c == ']' && classDepth > 0) {
                classDepth--;
            } else if (classDepth > 0) {
                continue;
            } else if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == '|' && depth == 0) {
                return true;
            }
        }
        return false;
    }

    /** The index of the last character of the escape at {@code i}: one escaped character, or a \Q…\E quote. */
    private static int lastOfEscape(String pattern, int i) {
        if (i + 1 < pattern.length() && pattern.charAt(i + 1) == 'Q') {
            int end = pattern.indexOf("\\E", i + 2);
            return end < 0 ? pattern.length() : end + 1;
        }
        return i + 1;
    }

    private static void checkExactName(String name) {
        // git check-ref-format, minus the characters that would already have made it a regex.
        if (name.startsWith("-") || name.startsWith("/") || name.endsWith("/") || name.endsWith(".")
                || name.endsWith(".lock") || name.contains("..") || name.contains("//") || name.contains("@{")
                || name.chars().anyMatch(c -> c <= 0x20 || c == 0x7f || c == '~' || c == ':')) {
            throw new IllegalArgumentException("'" + name + "' is neither a valid branch or tag name nor a regular expression");
        }
    }

    /**
     * Group names of a pattern that compiles. Java 17 has no API for them (Pattern.namedGroups() is
     * public only from Java 20), so the source is scanned, skipping escapes, quotes and classes.
     */
    static Set<String> namedGroups(String pattern) {
        Set<String> names = new LinkedHashSet<>();
        int classDepth = 0;
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\\') {
                i = lastOfEscape(pattern, i);
            } else if (c == '[') {
                classDepth++;
            } else if (c == ']' && classDepth > 0) {
                classDepth--;
            } else if (classDepth == 0 && pattern.startsWith("(?<", i) && i + 3 < pattern.length()
                    && Character.isLetter(pattern.charAt(i + 3))) {
                int end = pattern.indexOf('>', i + 3);
                names.add(pattern.substring(i + 3, end));
                i = end;
            }
        }
        return names;
    }

    /** Counts reads so that a pathological pattern fails one match instead of holding a thread. */
    private static final class BoundedCharSequence implements CharSequence {

        static final class TooManySteps extends RuntimeException {
            TooManySteps() {
                super(null, null, false, false);
            }
        }

        private final CharSequence inner;
        private final int[] budget;

        BoundedCharSequence(CharSequence inner, int steps) {
            this(inner, new int[] {steps});
        }

        private BoundedCharSequence(CharSequence inner, int[] budget) {
            this.inner = inner;
            this.budget = budget;
        }

        @Override
        public char charAt(int index) {
            if (--budget[0] < 0) {
                throw new TooManySteps();
            }
            return inner.charAt(index);
        }

        @Override
        public int length() {
            return inner.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new BoundedCharSequence(inner.subSequence(start, end), budget);
        }

        @Override
        public String toString() {
            return inner.toString();
        }
    }
}
