package dev.buildfarm.controller.rules;

import dev.buildfarm.controller.api.ApiError;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Resource names: repositories/{repository} and repositories/{repository}/rules/{rule}. */
public final class RuleNames {

    /** AIP-122 resource id: lowercase letters, digits and '-', starting with a letter, at most 63. */
    public static final Pattern ID = Pattern.compile("[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern REPOSITORY = Pattern.compile("repositories/(" + ID.pattern() + ")");
    private static final Pattern RULE = Pattern.compile("repositories/(" + ID.pattern() + ")/rules/(" + ID.pattern() + ")");

    public record RuleName(String repositoryId, String ruleId) {
        @Override
        public String toString() {
            return "repositories/" + repositoryId + "/rules/" + ruleId;
        }
    }

    private RuleNames() {
    }

    public static void checkId(String id, String field) {
        if (!ID.matcher(id).matches()) {
            throw ApiError.invalid(field, "'" + abbreviate(id) + "' must be 1 to 63 lowercase letters, digits or '-', "
                    + "starting with a letter and not ending with '-'");
        }
    }

    public static String repositoryId(String name, String field) {
        Matcher m = REPOSITORY.matcher(name);
        if (!m.matches()) {
            throw ApiError.invalid(field, "'" + abbreviate(name) + "' is not a repository name like repositories/{repository}");
        }
        return m.group(1);
    }

    public static RuleName ruleName(String name, String field) {
        Matcher m = RULE.matcher(name);
        if (!m.matches()) {
            throw ApiError.invalid(field, "'" + abbreviate(name)
                    + "' is not a rule name like repositories/{repository}/rules/{rule}");
        }
        return new RuleName(m.group(1), m.group(2));
    }

    /** Page tokens carry the last id of the previous page. */
    public static String pageToken(String lastId) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(lastId.getBytes(StandardCharsets.UTF_8));
    }

    public static String afterId(String pageToken) {
        if (pageToken.isEmpty()) {
            return "";
        }
        try {
            String id = new String(Base64.getUrlDecoder().decode(pageToken), StandardCharsets.UTF_8);
            if (ID.matcher(id).matches()) {
                return id;
            }
        } catch (IllegalArgumentException e) {
            // fall through
        }
        throw ApiError.invalid("page_token", "is not a token returned by this list method");
    }

    public static int pageSize(int requested) {
        if (requested < 0) {
            throw ApiError.invalid("page_size", "must not be negative");
        }
        return requested == 0 ? 20 : Math.min(requested, 100);
    }

    static String abbreviate(String value) {
        return value.length() <= 80 ? value : value.substring(0, 77) + "...";
    }
}
