package dev.buildfarm.controller.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The facts of a push event that rules need, read alike from GitHub, GitLab and Gitea payloads:
 * the full ref, whether it was deleted, the commit now on it, and (GitHub only) when it was pushed.
 */
public record PushPayload(String ref, boolean deleted, String commit, Optional<Instant> pushedAt) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern ZEROS = Pattern.compile("0+");

    /** A payload that is not a push event we can read; its message says what is wrong. */
    public static final class MalformedException extends Exception {
        MalformedException(String message) {
            super(message);
        }
    }

    /** GitHub can post "application/x-www-form-urlencoded" with the JSON in a 'payload' field. */
    public static byte[] fromForm(byte[] body) throws MalformedException {
        for (String pair : new String(body, StandardCharsets.US_ASCII).split("&")) {
            if (pair.startsWith("payload=")) {
                try {
                    return URLDecoder.decode(pair.substring("payload=".length()), StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    throw new MalformedException("the form's payload field is not URL-encoded: " + e.getMessage());
                }
            }
        }
        throw new MalformedException("a form-encoded push must carry the JSON in a 'payload' field");
    }

    public static PushPayload parse(byte[] body) throws MalformedException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new MalformedException("the body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new MalformedException("the body cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new MalformedException("the body is not a JSON object");
        }
        String ref = text(root, "ref");
        if (ref.isEmpty() || !ref.startsWith("refs/") || ref.length() > 255) {
            throw new MalformedException("'ref' must be a full ref name such as refs/heads/main");
        }
        String after = text(root, "after").toLowerCase(Locale.ROOT);
        boolean deleted = root.path("deleted").asBoolean(false) || ZEROS.matcher(after).matches();
        if (deleted) {
            return new PushPayload(ref, true, "", Optional.empty());
        }
        // For an annotated tag 'after' is the tag object; these name the commit it points at.
        String commit = firstNonEmpty(text(root, "checkout_sha"), text(root.path("head_commit"), "id"), after)
                .toLowerCase(Locale.ROOT);
        if (!COMMIT.matcher(commit).matches()) {
            throw new MalformedException("the pushed commit '" + commit + "' is not a 40-character hex commit id");
        }
        JsonNode pushedAt = root.path("repository").path("pushed_at");
        Optional<Instant> time = pushedAt.isIntegralNumber()
                ? Optional.of(Instant.ofEpochSecond(pushedAt.asLong())) : Optional.empty();
        return new PushPayload(ref, false, commit, time);
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isTextual() ? value.asText() : "";
    }

    private static String firstNonEmpty(String... values) {
        for (String value : values) {
            if (!value.isEmpty()) {
                return value;
            }
        }
        return "";
    }
}
