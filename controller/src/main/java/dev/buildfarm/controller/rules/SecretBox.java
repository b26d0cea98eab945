package dev.buildfarm.controller.rules;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Encrypts secrets for the database (webhook secrets, source credentials, secret build arguments)
 * with AES-256-GCM under the operator's key: `buildfarm.secrets.key` (32 bytes, base64) or the file
 * `buildfarm.secrets.key-file` holding it. They must be recoverable, not hashed: an HMAC can only be
 * checked with the secret itself, and an agent needs a build argument's value. Without a key, a fixed
 * development key is used and a warning logged: the database then holds no plaintext, but no
 * protection either.
 */
@ApplicationScoped
public class SecretBox {

    private static final Logger LOG = Logger.getLogger(SecretBox.class);
    private static final String VERSION = "v1:";
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;

    @ConfigProperty(name = "buildfarm.secrets.key")
    Optional<String> configuredKey;

    @ConfigProperty(name = "buildfarm.secrets.key-file")
    Optional<Path> keyFile;

    private final SecureRandom random = new SecureRandom();
    private volatile SecretKeySpec key;

    void onStart(@Observes StartupEvent event) {
        if (configuredKey.isEmpty() && keyFile.isEmpty()) {
            LOG.warn("neither buildfarm.secrets.key nor buildfarm.secrets.key-file is set: webhook secrets, source "
                    + "credentials and secret build arguments are encrypted with a built-in development key; "
                    + "set a 32-byte base64 key in production");
        }
        key();
    }

    public String seal(String plaintext) {
        return VERSION + Base64.getEncoder().encodeToString(sealBytes(plaintext.getBytes(StandardCharsets.UTF_8)));
    }

    /** IV followed by the ciphertext and its tag. */
    public byte[] sealBytes(byte[] plaintext) {
        try {
            byte[] iv = new byte[IV_BYTES];
            random.nextBytes(iv);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key(), new GCMParameterSpec(TAG_BITS, iv));
            byte[] sealed = cipher.doFinal(plaintext);
            byte[] out = new byte[iv.length + sealed.length];
            System.arraycopy(iv, 0, out, 0, iv.length);
            System.arraycopy(sealed, 0, out, iv.length, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encrypt", e);
        }
    }

    public String open(String sealed) {
        if (!sealed.startsWith(VERSION)) {
            throw new IllegalStateException("stored secret has an unknown format");
        }
        return new String(openBytes(Base64.getDecoder().decode(sealed.substring(VERSION.length()))), StandardCharsets.UTF_8);
    }

    public byte[] openBytes(byte[] in) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key(), new GCMParameterSpec(TAG_BITS, in, 0, IV_BYTES));
            return cipher.doFinal(in, IV_BYTES, in.length - IV_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot decrypt a stored secret: was buildfarm.secrets.key changed?", e);
        }
    }

    private SecretKeySpec key() {
        if (key == null) {
            byte[] bytes;
            if (configuredKey.isPresent()) {
                bytes = decodeKey(configuredKey.get(), "buildfarm.secrets.key");
            } else if (keyFile.isPresent()) {
                try {
                    bytes = decodeKey(Files.readString(keyFile.get(), StandardCharsets.US_ASCII), "buildfarm.secrets.key-file " + keyFile.get());
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read buildfarm.secrets.key-file " + keyFile.get() + ": " + e.getMessage(), e);
                }
            } else {
                bytes = sha256("buildfarm development key; set buildfarm.secrets.key");
            }
            key = new SecretKeySpec(bytes, "AES");
        }
        return key;
    }

    private static byte[] decodeKey(String base64, String where) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(where + " must hold 32 bytes in base64");
        }
        if (bytes.length != 32) {
            throw new IllegalStateException(where + " must hold 32 bytes in base64, not " + bytes.length);
        }
        return bytes;
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
