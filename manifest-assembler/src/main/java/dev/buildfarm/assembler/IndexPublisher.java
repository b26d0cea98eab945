package dev.buildfarm.assembler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.buildfarm.api.v1.IndexChild;
import dev.buildfarm.api.v1.PublishIndexRequest;
import dev.buildfarm.api.v1.PublishIndexResponse;
import dev.buildfarm.api.v1.RegistryAuth;
import dev.buildfarm.common.LogContext;
import dev.buildfarm.common.Platform;
import dev.buildfarm.assembler.registry.DigestMismatchException;
import dev.buildfarm.assembler.registry.Digests;
import dev.buildfarm.assembler.registry.ImageIndex;
import dev.buildfarm.assembler.registry.MediaTypes;
import dev.buildfarm.assembler.registry.RegistryClient;
import dev.buildfarm.assembler.registry.RegistryException;
import dev.buildfarm.assembler.registry.Repository;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Publishes a multi-arch image: verifies every child in the registry, PUTs the OCI index by digest,
 * reads it back, and only then points the tags at it, so a tag never names an incomplete index.
 */
@ApplicationScoped
public class IndexPublisher {
    private static final Logger LOG = Logger.getLogger(IndexPublisher.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    private static final int MAX_TAGS = 3;
    private static final List<String> CHILD_ACCEPT = Stream.concat(MediaTypes.IMAGE_MANIFESTS.stream(),
            MediaTypes.INDEXES.stream()).toList();

    /** A child as submitted, after its fields passed validation. */
    private record Child(int position, Platform platform, String digest, Repository source) {
        String name() {
            return "children[" + position + "] (" + platform + " " + digest + ")";
        }
    }

    private final RegistryClient registries;
    private final RegistryLogins logins;

    @Inject
    public IndexPublisher(RegistryClient registries, RegistryLogins logins) {
        this.registries = registries;
        this.logins = logins;
    }

    public IndexPublisher(RegistryClient registries) {
        this(registries, RegistryLogins.none());
    }

    public PublishIndexResponse publish(PublishIndexRequest request) {
        Optional<RegistryAuth> handed = request.hasRegistryAuth() ? Optional.of(request.getRegistryAuth()) : Optional.empty();
        // With no login to offer, the shared client as it is (it goes anonymous).
        RegistryClient registry = handed.isEmpty() && !logins.configured() ? registries
                : registries.withLogins(logins.forPublication(handed));
        Repository repo = repository(request.getRepository());
        List<String> tags = tags(request.getTagsList());
        List<Child> children = children(request.getChildrenList());
        Map<String, String> annotations = annotations(request.getAnnotationsMap());

        List<ImageIndex.Entry> entries = new ArrayList<>();
        for (Child child : children) {
            try (LogContext context = LogContext.open().platform(child.platform().toString())) {
                if (child.source() != null && !child.source().equals(repo)) {
                    copyChild(registry, child, repo);
                }
                entries.add(verify(registry, repo, child));
            }
        }
        byte[] index = ImageIndex.serialise(entries, annotations);
        String digest = registry.putManifest(repo, Digests.sha256(index), MediaTypes.OCI_INDEX, index);
        // Read it back by digest (getManifest verifies the bytes) before any tag may point at it.
        RegistryClient.Manifest stored = registry.getManifest(repo, digest, List.of(MediaTypes.OCI_INDEX));
        if (!MediaTypes.OCI_INDEX.equals(stored.mediaType())) {
            throw new RegistryException(0, "index " + repo + "@" + digest + " reads back as " + stored.mediaType());
        }
        for (String tag : tags) {
            // A publication repeated (a lost answer, a restart) leaves a tag that already names this
            // index alone: each tag moves at most once per index.
            if (registry.headManifest(repo, tag, MediaTypes.INDEXES).filter(digest::equals).isPresent()) {
                LOG.infof("%s:%s already names %s", repo, tag, digest);
                continue;
            }
            registry.putManifest(repo, tag, MediaTypes.OCI_INDEX, index);
        }
        LOG.infof("published %s@%s (%d bytes, %s) as %s", repo, digest, index.length,
                entries.stream().map(e -> e.platform().toString()).collect(Collectors.joining(",")), tags);
        return PublishIndexResponse.newBuilder()
                .setIndexDigest(digest)
                .setIndexSize(index.length)
                .setMediaType(MediaTypes.OCI_INDEX)
                .build();
    }

    /**
     * Copies a child image from where it was pushed into the target repository, by digest: its blobs
     * (mounted when the registry is the same), then the exact manifest bytes. No tag is written.
     */
    private void copyChild(RegistryClient registry, Child child, Repository target) {
        RegistryClient.Manifest manifest;
        try {
            manifest = registry.getManifest(child.source(), child.digest(), CHILD_ACCEPT);
        } catch (DigestMismatchException e) {
            throw new ChildRejectedException(child.name(), "the registry's bytes hash to " + e.actual(), e);
        } catch (RegistryException e) {
            if (e.isNotFound()) {
                throw new ChildRejectedException(child.name(), "manifest not found in " + child.source(), e);
            }
            throw e;
        }
        JsonNode json = readTree(manifest.bytes(), child, "manifest");
        List<String> blobs = new ArrayList<>();
        blobs.add(json.path("config").path("digest").asText(""));
        json.path("layers").forEach(layer -> blobs.add(layer.path("digest").asText("")));
        for (String blob : blobs) {
            if (!Digests.isDigest(blob)) {
                throw new ChildRejectedException(child.name(), "manifest names a blob without a sha256 digest", null);
            }
            try {
                registry.copyBlob(child.source(), target, blob);
            } catch (RegistryException e) {
                if (e.isNotFound()) {
                    throw new ChildRejectedException(child.name(), "blob " + blob + " not found in " + child.source(), e);
                }
                throw e;
            }
        }
        registry.putManifest(target, child.digest(), manifest.mediaType(), manifest.bytes());
    }

    /** The child's manifest must exist under its digest, be a single image, and its config match the platform. */
    private ImageIndex.Entry verify(RegistryClient registry, Repository repo, Child child) {
        RegistryClient.Manifest manifest;
        try {
            manifest = registry.getManifest(repo, child.digest(), CHILD_ACCEPT);
        } catch (DigestMismatchException e) {
            throw new ChildRejectedException(child.name(), "the registry's bytes hash to " + e.actual(), e);
        } catch (RegistryException e) {
            if (e.isNotFound()) {
                throw new ChildRejectedException(child.name(), "manifest not found in " + repo, e);
            }
            throw e;
        }
        if (MediaTypes.isIndex(manifest.mediaType())) {
            throw new ChildRejectedException(child.name(), "is an image index (" + manifest.mediaType()
                    + "), not a single-platform image manifest", null);
        }
        if (!MediaTypes.isImageManifest(manifest.mediaType())) {
            throw new ChildRejectedException(child.name(), "unsupported manifest media type \"" + manifest.mediaType()
                    + "\", expected one of " + MediaTypes.IMAGE_MANIFESTS, null);
        }
        String configDigest = readTree(manifest.bytes(), child, "manifest").path("config").path("digest").asText("");
        if (!Digests.isDigest(configDigest)) {
            throw new ChildRejectedException(child.name(), "manifest has no sha256 config digest", null);
        }
        byte[] configBytes;
        try {
            configBytes = registry.getBlob(repo, configDigest);
        } catch (DigestMismatchException e) {
            throw new ChildRejectedException(child.name(), "config blob " + configDigest + " hashes to " + e.actual(), e);
        } catch (RegistryException e) {
            if (e.isNotFound()) {
                throw new ChildRejectedException(child.name(), "config blob " + configDigest + " not found in " + repo, e);
            }
            throw e;
        }
        JsonNode config = readTree(configBytes, child, "config");
        String os = config.path("os").asText("");
        String architecture = config.path("architecture").asText("");
        String variant = config.path("variant").asText("");
        if (!child.platform().matchesConfig(os, architecture, variant)) {
            throw new ChildRejectedException(child.name(), "image config says "
                     + describe(os, architecture, variant) + ", not " + child.platform(), null);
        }
        return new ImageIndex.Entry(child.platform(), manifest.mediaType(), manifest.digest(), manifest.bytes().length);
    }

    /** A config's platform, for messages ("linux/arm64/v8", "linux/?"). */
    private static String describe(String os, String architecture, String variant) {
        String s = (os == null || os.isEmpty() ? "?" : os) + "/" + (architecture == null || architecture.isEmpty() ? "?" : architecture);
        return variant == null || variant.isEmpty() ? s : s + "/" + variant;
    }

    private static JsonNode readTree(byte[] bytes, Child child, String what) {
        try {
            JsonNode node = JSON.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new IOException("not a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new ChildRejectedException(child.name(), what + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    // --- request validation: each failure names the field and the rule ---

    private static Repository repository(String text) {
        try {
            return Repository.parse(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("repository", e.getMessage());
        }
    }

    private static List<String> tags(List<String> tags) {
        if (tags.isEmpty() || tags.size() > MAX_TAGS) {
            throw new InvalidRequestException("tags", "between 1 and " + MAX_TAGS + " tags are required, got " + tags.size());
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < tags.size(); i++) {
            String tag = tags.get(i);
            if (!TAG.matcher(tag).matches()) {
                throw new InvalidRequestException("tags[" + i + "]", "\"" + tag + "\" must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
            }
            if (!seen.add(tag)) {
                throw new InvalidRequestException("tags[" + i + "]", "\"" + tag + "\" is listed twice");
            }
        }
        return tags;
    }

    private static List<Child> children(List<IndexChild> submitted) {
        if (submitted.isEmpty()) {
            throw new InvalidRequestException("children", "at least one child is required");
        }
        List<Child> children = new ArrayList<>();
        Set<Platform> seen = new HashSet<>();
        for (int i = 0; i < submitted.size(); i++) {
            IndexChild c = submitted.get(i);
            int position = i;
            // Exactly the normalised names: the controller sends nothing else.
            Platform platform = Platform.SUPPORTED.stream().filter(p -> p.toString().equals(c.getPlatform())).findFirst()
                    .orElseThrow(() -> new InvalidRequestException(
                    "children[" + position + "].platform", "\"" + c.getPlatform() + "\" must be one of "
                            + Platform.SUPPORTED.stream().map(Platform::toString).collect(Collectors.joining(", "))));
            if (!seen.add(platform)) {
                throw new InvalidRequestException("children[" + i + "].platform", platform + " is listed twice");
            }
            if (!Digests.isDigest(c.getDigest())) {
                throw new InvalidRequestException("children[" + i + "].digest",
                        "\"" + c.getDigest() + "\" must match sha256:[a-f0-9]{64}");
            }
            Repository source = null;
            if (!c.getSourceRepository().isEmpty()) {
                try {
                    source = Repository.parse(c.getSourceRepository());
                } catch (IllegalArgumentException e) {
                    throw new InvalidRequestException("children[" + i + "].source_repository", e.getMessage());
                }
            }
            children.add(new Child(i, platform, c.getDigest(), source));
        }
        // Verify (and log) in index order; positions still name the child as submitted.
        children.sort(Comparator.comparingInt(c -> c.platform().order()));
        return children;
    }

    private static Map<String, String> annotations(Map<String, String> annotations) {
        for (String key : annotations.keySet()) {
            if (key.isBlank()) {
                throw new InvalidRequestException("annotations", "keys must not be empty");
            }
        }
        return annotations;
    }
}
