package dev.buildfarm.common;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The registry logins of a Docker config.json (what `docker login` writes, and what a Kubernetes
 * secret of type kubernetes.io/dockerconfigjson holds): {@code auths} keyed by registry, each with
 * {@code auth} (base64 of user:password) or {@code username} and {@code password}. Keys are matched
 * by host[:port], whatever scheme or path they carry. Credential helpers are not consulted.
 * Errors name the entry, never its secret.
 */
public final class DockerConfig {

    /** A username and password for one registry host. */
    public record Login(String registry, String username, String password) {
        /** Without the password. */
        @Override
        public String toString() {
            return "Login[" + registry + ", " + username + "]";
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final Map<String, Login> byRegistry;

    private DockerConfig(Map<String, Login> byRegistry) {
        this.byRegistry = Map.copyOf(byRegistry);
    }

    public static DockerConfig empty() {
        return new DockerConfig(Map.of());
    }

    /** Reads the file; a missing or malformed one is an error naming the file. */
    public static DockerConfig read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the Docker config " + file + ": " + e);
        }
        try {
            return parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Docker config " + file + ": " + e.getMessage());
        }
    }

    public static DockerConfig parse(byte[] json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            // The parser's message may quote the text: say only where.
            throw new IllegalArgumentException("not JSON (line " + lineOf(e) + ")");
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        Map<String, Login> logins = new LinkedHashMap<>();
        JsonNode auths = root.path("auths");
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> entry = it.next();
            String registry = registryOf(entry.getKey());
            JsonNode value = entry.getValue();
            String username = value.path("username").asText("");
            String password = value.path("password").asText("");
            String auth = value.path("auth").asText("");
            if (!auth.isEmpty()) {
                String decoded;
                try {
                    decoded = new String(Base64.getDecoder().decode(auth.strip()), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("auths[\"" + entry.getKey() + "\"].auth is not base64");
                }
                int colon = decoded.indexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException("auths[\"" + entry.getKey() + "\"].auth is not base64 of user:password");
                }
                username = decoded.substring(0, colon);
                password = decoded.substring(colon + 1);
            }
            if (username.isEmpty() || password.isEmpty()) {
                // An entry without a secret here (e.g. kept by a credential helper) gives no login.
                continue;
            }
            logins.put(registry, new Login(registry, username, password));
        }
        return new DockerConfig(logins);
    }

    /** The login for a registry host[:port], if the config has one. */
    public Optional<Login> forRegistry(String registry) {
        return Optional.ofNullable(byRegistry.get(registryOf(registry)));
    }

    public int size() {
        return byRegistry.size();
    }

    /** "https://Registry.example.com:443/v1/" → "registry.example.com:443"; Docker Hub's aliases → docker.io. */
    static String registryOf(String key) {
        String host = key.strip();
        int scheme = host.indexOf("://");
        if (scheme >= 0) {
            host = host.substring(scheme + 3);
        }
        int slash = host.indexOf('/');
        if (slash >= 0) {
            host = host.substring(0, slash);
        }
        host = host.toLowerCase(Locale.ROOT);
        return switch (host) {
            case "index.docker.io", "registry-1.docker.io" -> "docker.io";
            default -> host;
        };
    }

    private static String lineOf(IOException e) {
        if (e instanceof com.fasterxml.jackson.core.JsonProcessingException p && p.getLocation() != null) {
            return String.valueOf(p.getLocation().getLineNr());
        }
        return "?";
    }
}
