package dev.buildfarm.controller.rules;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
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
 * Encrypts source secrets (webhook secrets, credentials) for the database with AES-256-GCM under the
 * operator's key, `buildfarm.secrets.key` (32 bytes, base64). They must be recoverable, not hashed:
 * an HMAC can only be checked with the secret itself. Without a key, a fixed development key is
 * used and a warning logged: the database then holds no plaintext, but no protection either.
 */
@ApplicationScoped
public class SecretBox {

    private static final Logger LOG = Logger.getLogger(SecretBox.class);
    private static final String VERSION = "v1:";
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;

    @ConfigProperty(name = "buildfarm.secrets.key")
    Optional<String> configuredKey;

    private final SecureRandom random = new SecureRandom();
    private volatile SecretKeySpec key;

    void onStart(@Observes StartupEvent event) {
        if (configuredKey.isEmpty()) {
            LOG.warn("buildfarm.secrets.key is not set: webhook secrets and source credentials are encrypted with a "
                    + "built-in development key; set a 32-byte base64 key in production");
        }
        key();
    }

    public String seal(String plaintext) {
        try {
            byte[] iv = new byte[IV_BYTES];
            random.nextBytes(iv);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key(), new GCMParameterSpec(TAG_BITS, iv));
            byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            byte[] out = new byte[iv.length + sealed.length];
            System.arraycopy(iv, 0, out, 0, iv.length);
            System.arraycopy(sealed, 0, out, iv.length, sealed.length);
            return VERSION + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encrypt", e);
        }
    }

    public String open(String sealed) {
        if (!sealed.startsWith(VERSION)) {
            throw new IllegalStateException("stored secret has an unknown format");
        }
        try {
            byte[] in = Base64.getDecoder().decode(sealed.substring(VERSION.length()));
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key(), new GCMParameterSpec(TAG_BITS, in, 0, IV_BYTES));
            return new String(cipher.doFinal(in, IV_BYTES, in.length - IV_BYTES), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot decrypt a stored secret: was buildfarm.secrets.key changed?", e);
        }
    }

    private SecretKeySpec key() {
        if (key == null) {
            byte[] bytes;
            if (configuredKey.isPresent()) {
                bytes = Base64.getDecoder().decode(configuredKey.get().strip());
                if (bytes.length != 32) {
                    throw new IllegalStateException("buildfarm.secrets.key must be 32 bytes in base64, not " + bytes.length);
                }
            } else {
                bytes = sha256("buildfarm development key; set buildfarm.secrets.key");
            }
            key = new SecretKeySpec(bytes, "AES");
        }
        return key;
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
