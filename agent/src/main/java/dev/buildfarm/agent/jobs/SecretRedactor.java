package dev.buildfarm.agent.jobs;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Replaces the values of a job's secret build arguments in text the agent ships or logs: each value
 * as it is, in base64 (standard and URL-safe, with and without padding) and URL-encoded. It works on
 * whole lines (the build's chunked output is split into lines first), so a value that Docker sent
 * across two chunks is still found. Empty values are left alone: they would match everywhere.
 */
public final class SecretRedactor {

    public static final String MARK = "****";
    private static final SecretRedactor NONE = new SecretRedactor(null);

    private final Pattern forms;

    private SecretRedactor(Pattern forms) {
        this.forms = forms;
    }

    public static SecretRedactor of(Collection<String> values) {
        Set<String> forms = new LinkedHashSet<>();
        for (String value : values) {
            if (value.isEmpty()) {
                continue;
            }
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            forms.add(value);
            forms.add(Base64.getEncoder().encodeToString(bytes));
            forms.add(Base64.getEncoder().withoutPadding().encodeToString(bytes));
            forms.add(Base64.getUrlEncoder().encodeToString(bytes));
            forms.add(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
            String urlEncoded = URLEncoder.encode(value, StandardCharsets.UTF_8);
            forms.add(urlEncoded);
            forms.add(urlEncoded.replace("+", "%20"));
        }
        if (forms.isEmpty()) {
            return NONE;
        }
        // Longest first, so a form that contains another is replaced whole.
        String alternation = forms.stream()
                .sorted(Comparator.comparingInt(String::length).reversed())
                .map(Pattern::quote)
                .collect(Collectors.joining("|"));
        return new SecretRedactor(Pattern.compile(alternation));
    }

    public static SecretRedactor none() {
        return NONE;
    }

    public String redact(String text) {
        if (forms == null || text == null) {
            return text;
        }
        return forms.matcher(text).replaceAll(Matcher.quoteReplacement(MARK));
    }
}
