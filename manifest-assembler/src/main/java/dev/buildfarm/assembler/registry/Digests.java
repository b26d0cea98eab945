package dev.buildfarm.assembler.registry;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** sha256 content digests, the only algorithm the farm writes. */
public final class Digests {
    public static final Pattern SHA256 = Pattern.compile("sha256:[a-f0-9]{64}");

    private Digests() {
    }

    public static String sha256(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    public static boolean isDigest(String reference) {
        return reference != null && SHA256.matcher(reference).matches();
    }

    /** Content is addressed by its digest: bytes that hash differently are not that content. */
    public static void verify(String expected, byte[] bytes, String what) {
        String actual = sha256(bytes);
        if (!actual.equals(expected)) {
            throw new DigestMismatchException(what, expected, actual);
        }
    }
}
