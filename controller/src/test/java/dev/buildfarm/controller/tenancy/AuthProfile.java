package dev.buildfarm.controller.tenancy;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Authentication on, with an operator token bootstrapped from a file as dev/services.sh does. */
public class AuthProfile implements QuarkusTestProfile {

    public static final String OPERATOR_TOKEN = Tokens.mint().token();

    @Override
    public Map<String, String> getConfigOverrides() {
        try {
            Path file = Files.createTempFile("operator", ".token");
            Files.writeString(file, OPERATOR_TOKEN + "\n");
            file.toFile().deleteOnExit();
            return Map.of("buildfarm.auth.enabled", "true",
                    "buildfarm.auth.bootstrap-operator-token-file", file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
