package dev.buildfarm.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.util.HexFormat;

/** Reads the registry the way a client does, checking digests of what it reads. */
final class Registry {

    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String ACCEPT = String.join(",", OCI_INDEX,
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    record Document(String digest, String mediaType, JsonNode json) {
    }

    private Registry() {
    }

    /** GET a manifest by tag or digest; 404 gives null. */
    static Document manifest(String repositoryPath, String reference) throws Exception {
        return manifest(Farm.REGISTRY, repositoryPath, reference, null);
    }

    /** The same from another registry, with an Authorization header (null for none). */
    static Document manifest(String registry, String repositoryPath, String reference, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://" + registry + "/v2/" + repositoryPath + "/manifests/" + reference))
                .header("Accept", ACCEPT);
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<byte[]> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() == 404) {
            return null;
        }
        if (response.statusCode() != 200) {
            throw new IllegalStateException("GET manifest " + reference + ": HTTP " + response.statusCode());
        }
        return new Document(sha256(response.body()), response.headers().firstValue("Content-Type").orElse(""),
                JSON.readTree(response.body()));
    }

    static JsonNode blob(String repositoryPath, String digest) throws Exception {
        HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(
                        URI.create("http://" + Farm.REGISTRY + "/v2/" + repositoryPath + "/blobs/" + digest)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200 || !sha256(response.body()).equals(digest)) {
            throw new IllegalStateException("GET blob " + digest + ": HTTP " + response.statusCode() + " or digest mismatch");
        }
        return JSON.readTree(response.body());
    }

    static JsonNode tags(String repositoryPath) throws Exception {
        HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(
                        URI.create("http://" + Farm.REGISTRY + "/v2/" + repositoryPath + "/tags/list")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        return response.statusCode() == 404 ? JSON.createObjectNode() : JSON.readTree(response.body());
    }

    static String sha256(byte[] bytes) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
