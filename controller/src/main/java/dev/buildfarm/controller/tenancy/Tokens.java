package dev.buildfarm.controller.tenancy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bearer token format, {@code bf_<16 hex id>_<64 hex secret>}: the id finds the stored token,
 * the secret (256 random bits) proves it. Only the secret's SHA-256 is stored; a fast hash is
 * enough for a random secret of that size.
 */
public final class Tokens {

    private static final Pattern FORMAT = Pattern.compile("bf_([0-9a-f]{16})_([0-9a-f]{64})");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    public record Parsed(String id, String secret) {
    }

    public record Minted(String id, String token, String secretSha256) {
    }

    private Tokens() {
    }

    public static Optional<Parsed> parse(String token) {
        Matcher m = FORMAT.matcher(token);
        return m.matches() ? Optional.of(new Parsed(m.group(1), m.group(2))) : Optional.empty();
    }

    public static Minted mint() {
        byte[] id = new byte[8];
        byte[] secret = new byte[32];
        RANDOM.nextBytes(id);
        RANDOM.nextBytes(secret);
        String secretHex = HEX.formatHex(secret);
        String idHex = HEX.formatHex(id);
        return new Minted(idHex, "bf_" + idHex + "_" + secretHex, sha256(secretHex));
    }

    public static String sha256(String secret) {
        try {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code secret} hashes to {@code storedSha256}, compared in constant time. */
    public static boolean matches(String secret, String storedSha256) {
        return MessageDigest.isEqual(sha256(secret).getBytes(StandardCharsets.US_ASCII),
                storedSha256.getBytes(StandardCharsets.US_ASCII));
    }
}
