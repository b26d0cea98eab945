package dev.buildfarm.assembler.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * A small client of the OCI distribution API: just the calls the assembler (and its tests) make.
 * Every read is verified against its digest; connection errors, 5xx and 429 are retried with
 * exponential backoff (honouring Retry-After) a bounded number of times, then reported as
 * {@link RegistryUnavailableException}. Authenticates when a registry asks (401 with WWW-Authenticate):
 * Basic with the login {@link #withLogins} gives for its host, or the Bearer token flow (the token
 * fetched from the challenge's realm for its service and scope, with that login or anonymously).
 */
public class RegistryClient {
    private static final Logger LOG = Logger.getLogger(RegistryClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param insecureHosts "host:port" entries spoken to over plain HTTP; all others use HTTPS
     * @param maxAttempts   tries per request, including the first
     */
    public record Settings(Set<String> insecureHosts, int maxAttempts, Duration initialBackoff, Duration maxBackoff,
            Duration connectTimeout, Duration requestTimeout) {
    }

    /** A manifest as stored: its exact bytes, their digest, and the media type the registry served it as. */
    public record Manifest(String digest, String mediaType, byte[] bytes) {
    }

    /** A username and password for one registry. */
    public record Login(String username, String password) {
        /** Without the password. */
        @Override
        public String toString() {
            return "Login[" + username + "]";
        }
    }

    private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final Settings settings;
    private final HttpClient http;
    private final Function<String, Optional<Login>> logins;
    /** host → the Authorization header that worked last (Basic, or a Bearer token), sent up front. */
    private final Map<String, String> authorization = new ConcurrentHashMap<>();

    public RegistryClient(Settings settings) {
        this(settings, HttpClient.newBuilder()
                // HTTP/1.1: plain-HTTP registries would otherwise be sent h2c upgrade attempts.
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.connectTimeout())
                // Blob GETs may redirect to backing storage.
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build(), host -> Optional.empty());
    }

    private RegistryClient(Settings settings, HttpClient http, Function<String, Optional<Login>> logins) {
        this.settings = settings;
        this.http = http;
        this.logins = logins;
    }

    /**
     * A client that answers registries' challenges with {@code logins} (host[:port] → login); it
     * shares this one's connections and keeps its own tokens (use one per publication).
     */
    public RegistryClient withLogins(Function<String, Optional<Login>> logins) {
        return new RegistryClient(settings, http, logins);
    }

    /**
     * GET a manifest by digest or tag. {@code accept} must list every media type the caller can
     * handle: registries answer 404 (or convert) when the stored type is not acceptable.
     */
    public Manifest getManifest(Repository repo, String reference, List<String> accept) {
        String what = "manifest " + repo + "@" + reference;
        HttpResponse<byte[]> response = expect(send(request(repo, "manifests/" + reference)
                .header("Accept", String.join(", ", accept)).GET().build(), what), what, 200);
        byte[] bytes = response.body();
        String digest;
        if (Digests.isDigest(reference)) {
            Digests.verify(reference, bytes, what);
            digest = reference;
        } else {
            // By tag there is nothing to check against but the registry's own claim.
            digest = Digests.sha256(bytes);
            Optional<String> claimed = response.headers().firstValue("Docker-Content-Digest");
            if (claimed.isPresent() && !claimed.get().equals(digest)) {
                throw new DigestMismatchException(what, claimed.get(), digest);
            }
        }
        String mediaType = MediaTypes.base(response.headers().firstValue("Content-Type").orElse(null));
        if (!MediaTypes.isImageManifest(mediaType) && !MediaTypes.isIndex(mediaType)) {
            // Some registries serve a generic type; the manifest names its own.
            mediaType = mediaTypeField(bytes);
        }
        return new Manifest(digest, mediaType, bytes);
    }

    /** GET a blob, verified against its digest. */
    public byte[] getBlob(Repository repo, String digest) {
        String what = "blob " + repo + "@" + digest;
        byte[] bytes = expect(send(request(repo, "blobs/" + digest).GET().build(), what), what, 200).body();
        Digests.verify(digest, bytes, what);
        return bytes;
    }

    /** HEAD a manifest by tag or digest: the digest the registry names it by, empty when it has none. */
    public Optional<String> headManifest(Repository repo, String reference, List<String> accept) {
        String what = "manifest " + repo + ":" + reference;
        HttpResponse<byte[]> response = send(request(repo, "manifests/" + reference)
                .header("Accept", String.join(", ", accept))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), what);
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        expect(response, what, 200);
        return response.headers().firstValue("Docker-Content-Digest");
    }

    public boolean headBlob(Repository repo, String digest) {
        String what = "blob " + repo + "@" + digest;
        HttpResponse<byte[]> response = send(request(repo, "blobs/" + digest)
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), what);
        if (response.statusCode() == 404) {
            return false;
        }
        expect(response, what, 200);
        return true;
    }

    /** Upload a blob (monolithic POST then PUT), unless it is already there. Returns its digest. */
    public String uploadBlob(Repository repo, byte[] bytes) {
        String digest = Digests.sha256(bytes);
        if (headBlob(repo, digest)) {
            return digest;
        }
        String what = "blob upload " + repo + "@" + digest;
        HttpRequest start = request(repo, "blobs/uploads/").POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<byte[]> started = expect(send(start, what), what, 202);
        String location = started.headers().firstValue("Location")
                .orElseThrow(() -> new RegistryException(started.statusCode(), what + ": no Location in the answer"));
        URI upload = start.uri().resolve(location);
        String separator = upload.getQuery() == null ? "?" : "&";
        HttpRequest put = HttpRequest.newBuilder(URI.create(upload + separator + "digest=" + digest))
                .timeout(settings.requestTimeout())
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build();
        expect(send(put, what), what, 201);
        return digest;
    }

    /**
     * Make a blob of another repository available in {@code target}: a cross-repository mount on the
     * same registry (no bytes move), else a verified copy.
     */
    public void copyBlob(Repository from, Repository target, String digest) {
        if (headBlob(target, digest)) {
            return;
        }
        if (from.host().equals(target.host())) {
            String what = "blob mount " + from + "@" + digest + " into " + target;
            HttpResponse<byte[]> mounted = send(request(target, "blobs/uploads/?mount=" + digest + "&from=" + from.path())
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), what);
            if (mounted.statusCode() == 201) {
                return;
            }
            // 202: the registry started a plain upload instead; the copy below completes the work.
        }
        uploadBlob(target, getBlob(from, digest));
    }

    /**
     * PUT a manifest under a digest or tag, exactly these bytes. Returns their digest, after checking
     * that the registry stored them under the same one.
     */
    public String putManifest(Repository repo, String reference, String mediaType, byte[] bytes) {
        String digest = Digests.sha256(bytes);
        String what = "manifest PUT " + repo + ":" + reference;
        HttpResponse<byte[]> response = expect(send(request(repo, "manifests/" + reference)
                .header("Content-Type", mediaType)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(), what), what, 201);
        Optional<String> stored = response.headers().firstValue("Docker-Content-Digest");
        if (stored.isPresent() && !stored.get().equals(digest)) {
            throw new DigestMismatchException(what, digest, stored.get());
        }
        return digest;
    }

    private HttpRequest.Builder request(Repository repo, String suffix) {
        String scheme = settings.insecureHosts().contains(repo.host()) ? "http" : "https";
        return HttpRequest.newBuilder(URI.create(scheme + "://" + repo.host() + "/v2/" + repo.path() + "/" + suffix))
                .timeout(settings.requestTimeout());
    }

    /**
     * Send, authenticating when the registry asks: with the header that worked last for its host,
     * and on a 401 once more after answering the challenge. A 401 that remains is an error that says
     * whether a login was tried (never the password).
     */
    HttpResponse<byte[]> send(HttpRequest request, String what) {
        String host = request.uri().getAuthority();
        String remembered = authorization.get(host);
        HttpResponse<byte[]> response = sendWithRetries(remembered == null ? request : authorized(request, remembered), what);
        if (response.statusCode() != 401) {
            return response;
        }
        Optional<Login> login = logins.apply(host);
        Optional<String> header = answer(response, host, login, what);
        if (header.isPresent()) {
            authorization.put(host, header.get());
            response = sendWithRetries(authorized(request, header.get()), what);
        }
        if (response.statusCode() == 401) {
            throw new RegistryException(401, what + ": registry " + host + " refused "
                    + login.map(l -> "the login of user '" + l.username() + "'")
                            .orElse("anonymous access: there is no credential for it (a registry credential of the build's "
                                    + "namespace, or a login in the assembler's Docker config)")
                    + ": " + errorText(response.body()));
        }
        return response;
    }

    private static HttpRequest authorized(HttpRequest request, String header) {
        return HttpRequest.newBuilder(request, (name, value) -> !name.equalsIgnoreCase("Authorization"))
                .header("Authorization", header).build();
    }

    /** The Authorization header that answers a 401's challenge, if there is one to give. */
    private Optional<String> answer(HttpResponse<byte[]> challenged, String host, Optional<Login> login, String what) {
        String challenge = challenged.headers().firstValue("WWW-Authenticate").orElse("").strip();
        String scheme = challenge.contains(" ") ? challenge.substring(0, challenge.indexOf(' ')) : challenge;
        if (scheme.equalsIgnoreCase("Basic")) {
            return login.map(RegistryClient::basic);
        }
        if (!scheme.equalsIgnoreCase("Bearer")) {
            return Optional.empty();
        }
        Map<String, String> params = new HashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1).toLowerCase(java.util.Locale.ROOT), m.group(2));
        }
        String realm = params.get("realm");
        if (realm == null || realm.isEmpty()) {
            throw new RegistryException(401, what + ": registry " + host + " asks for a Bearer token without naming its realm");
        }
        StringBuilder query = new StringBuilder();
        if (params.containsKey("service")) {
            query.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
        }
        for (String scope : params.getOrDefault("scope", "").split(" ")) {
            if (!scope.isEmpty()) {
                query.append(query.isEmpty() ? "" : "&").append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
            }
        }
        URI tokenUri = URI.create(realm + (query.isEmpty() ? "" : (realm.contains("?") ? "&" : "?") + query));
        HttpRequest.Builder tokenRequest = HttpRequest.newBuilder(tokenUri).timeout(settings.requestTimeout()).GET();
        login.ifPresent(l -> tokenRequest.header("Authorization", basic(l)));
        String tokenWhat = what + ": token from " + tokenUri.getAuthority() + tokenUri.getPath();
        HttpResponse<byte[]> tokenResponse = sendWithRetries(tokenRequest.build(), tokenWhat);
        if (tokenResponse.statusCode() != 200) {
            throw new RegistryException(tokenResponse.statusCode(), tokenWhat + ": the token service answered "
                    + tokenResponse.statusCode() + login.map(l -> " to the login of user '" + l.username() + "'").orElse(" to an anonymous request")
                    + ": " + errorText(tokenResponse.body()));
        }
        try {
            JsonNode body = JSON.readTree(tokenResponse.body());
            String token = body.path("token").asText(body.path("access_token").asText(""));
            if (token.isEmpty()) {
                throw new RegistryException(0, tokenWhat + ": the answer holds no token");
            }
            return Optional.of("Bearer " + token);
        } catch (IOException e) {
            throw new RegistryException(0, tokenWhat + ": the answer is not JSON");
        }
    }

    private static String basic(Login login) {
        return "Basic " + Base64.getEncoder().encodeToString((login.username() + ":" + login.password()).getBytes(StandardCharsets.UTF_8));
    }

    /** Send with bounded retries on connection errors, 5xx and 429. Other answers are returned as they are. */
    private HttpResponse<byte[]> sendWithRetries(HttpRequest request, String what) {
        for (int attempt = 1;; attempt++) {
            Duration wait;
            try {
                HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                int status = response.statusCode();
                if (status != 429 && status < 500) {
                    return response;
                }
                if (attempt >= settings.maxAttempts()) {
                    throw new RegistryUnavailableException(status, what + ": registry answered " + status
                            + " after " + attempt + " tries: " + errorText(response.body()));
                }
                wait = retryAfter(response).orElse(backoff(attempt));
                LOG.debugf("%s: registry answered %d, retrying in %s", what, status, wait);
            } catch (IOException e) {
                if (attempt >= settings.maxAttempts()) {
                    throw new RegistryUnavailableException(what + ": registry " + request.uri().getAuthority()
                            + " unreachable after " + attempt + " tries: " + e, e);
                }
                wait = backoff(attempt);
                LOG.debugf("%s: %s, retrying in %s", what, e, wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryUnavailableException(what + ": interrupted", e);
            }
            sleep(wait);
        }
    }

    private Duration backoff(int attempt) {
        Duration d = settings.initialBackoff().multipliedBy(1L << Math.min(attempt - 1, 20));
        return d.compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff() : d;
    }

    /** Retry-After in seconds or as an HTTP date, capped at the maximum backoff so retries stay bounded. */
    private Optional<Duration> retryAfter(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").map(value -> {
            Duration d;
            try {
                d = Duration.ofSeconds(Long.parseLong(value.trim()));
            } catch (NumberFormatException notSeconds) {
                try {
                    d = Duration.between(ZonedDateTime.now(), ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME));
                } catch (RuntimeException notDate) {
                    return null;
                }
            }
            if (d.isNegative()) {
                return Duration.ZERO;
            }
            return d.compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff() : d;
        });
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnavailableException("interrupted while waiting to retry", e);
        }
    }

    private static HttpResponse<byte[]> expect(HttpResponse<byte[]> response, String what, int status) {
        if (response.statusCode() != status) {
            throw new RegistryException(response.statusCode(),
                    what + ": registry answered " + response.statusCode() + ": " + errorText(response.body()));
        }
        return response;
    }

    /** The distribution error codes and messages ("MANIFEST_UNKNOWN: manifest unknown"), or the raw body. */
    static String errorText(byte[] body) {
        if (body == null || body.length == 0) {
            return "(no body)";
        }
        try {
            JsonNode errors = JSON.readTree(body).path("errors");
            if (errors.isArray() && !errors.isEmpty()) {
                StringBuilder sb = new StringBuilder();
                for (JsonNode e : errors) {
                    if (!sb.isEmpty()) {
                        sb.append("; ");
                    }
                    sb.append(e.path("code").asText()).append(": ").append(e.path("message").asText());
                }
                return sb.toString();
            }
        } catch (IOException | RuntimeException notJson) {
            // fall through to the raw text
        }
        String text = new String(body, java.nio.charset.StandardCharsets.UTF_8).strip();
        return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    }

    private static String mediaTypeField(byte[] manifest) {
        try {
            return JSON.readTree(manifest).path("mediaType").asText("");
        } catch (IOException e) {
            return "";
        }
    }
}
