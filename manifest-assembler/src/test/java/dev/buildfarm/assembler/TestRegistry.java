package dev.buildfarm.assembler;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.buildfarm.assembler.registry.Digests;
import dev.buildfarm.assembler.registry.MediaTypes;
import dev.buildfarm.assembler.registry.RegistryClient;
import dev.buildfarm.assembler.registry.Repository;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** The real registry the tests push synthetic images to: 127.0.0.1:5000, or BUILDFARM_TEST_REGISTRY. */
final class TestRegistry {
    static final String HOST = System.getenv().getOrDefault("BUILDFARM_TEST_REGISTRY", "127.0.0.1:5000");
    static final RegistryClient CLIENT = new RegistryClient(new RegistryClient.Settings(Set.of(HOST), 3,
            Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofSeconds(30)));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    private TestRegistry() {
    }

    /** Fails early, with a hint, when no registry listens where the tests expect one. */
    static void requireReachable() {
        try (java.net.Socket socket = new java.net.Socket()) {
            int colon = HOST.lastIndexOf(':');
            socket.connect(new java.net.InetSocketAddress(HOST.substring(0, colon), Integer.parseInt(HOST.substring(colon + 1))), 2000);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("no registry at " + HOST + " (" + e.getMessage()
                    + "): start the stack (dev/) or a docker-registry, or set BUILDFARM_TEST_REGISTRY=host:port", e);
        }
    }

    /** A fresh repository per test, so tests never see each other's tags. */
    static Repository newRepository() {
        return new Repository(HOST, "assembler-test/r" + UUID.randomUUID().toString().replace("-", ""));
    }

    /** Pushes a one-layer image whose config says os/architecture/variant; returns its manifest digest. */
    static String pushImage(Repository repo, String architecture, String variant, String manifestMediaType) {
        return pushImage(CLIENT, repo, architecture, variant, manifestMediaType);
    }

    /** The same with another client (e.g. one that logs in to an authenticated registry). */
    static String pushImage(RegistryClient client, Repository repo, String architecture, String variant, String manifestMediaType) {
        try {
            byte[] layer = new byte[64];
            RANDOM.nextBytes(layer);
            String layerDigest = client.uploadBlob(repo, layer);
            boolean docker = MediaTypes.DOCKER_MANIFEST.equals(manifestMediaType);

            Map<String, Object> config = new LinkedHashMap<>();
            config.put("architecture", architecture);
            config.put("os", "linux");
            if (!variant.isEmpty()) {
                config.put("variant", variant);
            }
            config.put("rootfs", Map.of("type", "layers", "diff_ids", List.of(layerDigest)));
            byte[] configBytes = JSON.writeValueAsBytes(config);
            String configDigest = client.uploadBlob(repo, configBytes);

            Map<String, Object> manifest = new LinkedHashMap<>();
            manifest.put("schemaVersion", 2);
            manifest.put("mediaType", manifestMediaType);
            manifest.put("config", Map.of("mediaType", docker ? MediaTypes.DOCKER_CONFIG : MediaTypes.OCI_CONFIG,
                    "digest", configDigest, "size", configBytes.length));
            manifest.put("layers", List.of(Map.of("mediaType", docker ? MediaTypes.DOCKER_LAYER_GZIP : MediaTypes.OCI_LAYER_GZIP,
                    "digest", layerDigest, "size", layer.length)));
            byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
            String digest = Digests.sha256(manifestBytes);
            return client.putManifest(repo, digest, manifestMediaType, manifestBytes);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String pushImage(Repository repo, String architecture, String variant) {
        return pushImage(repo, architecture, variant, MediaTypes.OCI_MANIFEST);
    }
}
