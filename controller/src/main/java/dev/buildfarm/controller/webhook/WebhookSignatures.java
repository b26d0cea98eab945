package dev.buildfarm.controller.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The three git servers' ways of proving a webhook came from them, each compared in constant time:
 * GitHub signs the raw body with HMAC-SHA256 ("X-Hub-Signature-256: sha256=<hex>"), Gitea the same
 * without the prefix ("X-Gitea-Signature: <hex>"), GitLab sends the secret itself ("X-Gitlab-Token").
 */
public final class WebhookSignatures {

    private static final String GITHUB_PREFIX = "sha256=";

    private WebhookSignatures() {
    }

    public static boolean github(byte[] body, String header, String secret) {
        if (header == null || !header.regionMatches(true, 0, GITHUB_PREFIX, 0, GITHUB_PREFIX.length())) {
            return false;
        }
        return hexHmacMatches(body, header.substring(GITHUB_PREFIX.length()), secret);
    }

    public static boolean gitea(byte[] body, String header, String secret) {
        return header != null && hexHmacMatches(body, header, secret);
    }

    public static boolean gitlab(String token, String secret) {
        // Digests first, so the comparison takes the same time whatever the lengths.
        return token != null && MessageDigest.isEqual(sha256(token), sha256(secret));
    }

    /** What GitHub would send for this body: "sha256=<hex>". */
    public static String githubHeader(byte[] body, String secret) {
        return GITHUB_PREFIX + HexFormat.of().formatHex(hmacSha256(body, secret));
    }

    /** What Gitea would send for this body: "<hex>". */
    public static String giteaHeader(byte[] body, String secret) {
        return HexFormat.of().formatHex(hmacSha256(body, secret));
    }

    private static boolean hexHmacMatches(byte[] body, String hex, String secret) {
        byte[] given;
        try {
            given = HexFormat.of().parseHex(hex.strip());
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(given, hmacSha256(body, secret));
    }

    static byte[] hmacSha256(byte[] body, String secret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
