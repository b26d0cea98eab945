package dev.buildfarm.controller.build;

import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.common.Namespaces;
import dev.buildfarm.common.Platform;
import dev.buildfarm.common.SourceHosts;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.api.ApiError.Violation;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a BuildSpec at the edge and returns it normalised (platforms canonical, defaults filled),
 * or throws INVALID_ARGUMENT listing every broken field with its rule.
 */
public final class BuildSpecValidator {

    public static final int MAX_TAGS = 3;
    public static final int MAX_BUILD_ARGS = 20;
    public static final String DEFAULT_DOCKERFILE = "Dockerfile";

    /** Arguments the agent supplies for every build (BuildKit's automatic platform args). */
    public static final Set<String> AUTOMATIC_ARGS = Set.of(
            "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
            "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT");

    // OCI distribution spec grammar: path components, and a registry host with optional port.
    private static final Pattern PATH_COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*");
    private static final Pattern REGISTRY_HOST = Pattern.compile(
            "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    private static final Pattern BUILD_ARG_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final Pattern CONTEXT_DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final Set<String> URL_SCHEMES = Set.of("https", "http", "ssh", "git");
    private static final int MAX_BUILD_ARG_VALUE = 4096;
    private static final int MAX_URL = 2048;
    private static final int MAX_DIRECTORY = 1024;
    /** git's remote-helper syntax, "<transport>::<address>" (ext::, fd::, …). */
    private static final Pattern REMOTE_HELPER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9+.-]*::");

    private final boolean allowFileUrls;

    public BuildSpecValidator(boolean allowFileUrls) {
        this.allowFileUrls = allowFileUrls;
    }

    public void validateRequestId(String requestId) {
        if (!requestId.isEmpty() && !REQUEST_ID.matcher(requestId).matches()) {
            throw ApiError.invalid("request_id", "'" + abbreviate(requestId)
                    + "' must be 1 to 128 characters of letters, digits, '.', '_', ':' or '-'");
        }
    }

    public BuildSpec validate(BuildSpec spec) {
        List<Violation> violations = new ArrayList<>();
        BuildSpec.Builder out = spec.toBuilder();

        checkSource(spec, violations);
        out.setDockerfileDirectory(checkDirectory(spec.getDockerfileDirectory(), violations));
        out.setDockerfileName(checkDockerfileName(spec.getDockerfileName(), violations));
        out.clearPlatforms().addAllPlatforms(checkPlatforms(spec.getPlatformsList(), violations));
        checkRepository(spec.getRepository(), violations);
        checkTags(spec.getTagsList(), violations);
        checkBuildArgs(spec.getBuildArgsMap(), spec.getSecretBuildArgsMap(), violations);
        if (spec.getEmulation() == BuildSpec.Emulation.UNRECOGNIZED) {
            violations.add(new Violation("spec.emulation", spec.getEmulationValue()
                    + " is not an emulation policy; use FALLBACK (the default), NEVER or ALWAYS"));
        } else if (spec.getEmulation() == BuildSpec.Emulation.EMULATION_UNSPECIFIED) {
            out.setEmulation(BuildSpec.Emulation.FALLBACK);
        }

        if (!violations.isEmpty()) {
            throw ApiError.invalid(violations);
        }
        return out.build();
    }

    private void checkSource(BuildSpec spec, List<Violation> violations) {
        if (!spec.getContextDigest().isEmpty()) {
            if (spec.hasSource()) {
                violations.add(new Violation("spec.source", "set exactly one of source (a git repository) or context_digest (an uploaded context)"));
            } else if (!CONTEXT_DIGEST.matcher(spec.getContextDigest()).matches()) {
                violations.add(new Violation("spec.context_digest", "'" + abbreviate(spec.getContextDigest())
                        + "' must be sha256:<64 lowercase hex>, as UploadContext answers"));
            }
            return;
        }
        if (!spec.hasSource()) {
            violations.add(new Violation("spec.source", "is required: a git URL and a ref or commit (or set context_digest to an uploaded context)"));
            return;
        }
        GitSource source = spec.getSource();
        String url = source.getUrl();
        if (url.isBlank()) {
            violations.add(new Violation("spec.source.url", "is required"));
        } else {
            checkUrl(url, violations);
        }
        boolean hasRef = !source.getRef().isEmpty();
        boolean hasCommit = !source.getCommit().isEmpty();
        if (hasRef == hasCommit) {
            violations.add(new Violation("spec.source", "set exactly one of ref or commit"));
        }
        if (hasRef && !isSafeRef(source.getRef())) {
            violations.add(new Violation("spec.source.ref", "'" + abbreviate(source.getRef())
                    + "' is not a valid git ref name (no spaces, '..', '~', '^', ':', '\\', leading '-' or control characters)"));
        }
        if (hasCommit && !COMMIT.matcher(source.getCommit()).matches()) {
            violations.add(new Violation("spec.source.commit", "'" + abbreviate(source.getCommit())
                    + "' must be a full 40-character lowercase hex commit id"));
        }
    }

    private void checkUrl(String url, List<Violation> violations) {
        String field = "spec.source.url";
        if (url.length() > MAX_URL) {
            violations.add(new Violation(field, "is " + url.length() + " characters long; at most " + MAX_URL + " are allowed"));
            return;
        }
        // Git would read "-…" as an option (--upload-pack=…) and "<transport>::<address>" as a remote helper (ext:: runs a command).
        if (url.startsWith("-")) {
            violations.add(new Violation(field, "'" + abbreviate(url) + "' starts with '-', which git reads as an option"));
            return;
        }
        if (REMOTE_HELPER.matcher(url).lookingAt()) {
            violations.add(new Violation(field, "'" + abbreviate(url)
                    + "' is a remote-helper address (<transport>::…), which is not allowed; use an https, http, ssh or git URL"));
            return;
        }
        if (url.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
            violations.add(new Violation(field, "'" + abbreviate(url) + "' is not a URL: it contains spaces or control characters"));
            return;
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (Exception e) {
            violations.add(new Violation(field, "'" + abbreviate(url) + (url.contains("://") ? "' is not a URL"
                    : "' has no scheme; use an https, http, ssh or git URL (scp-like user@host:path is not accepted)")));
            return;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (scheme.equals("file")) {
            if (!allowFileUrls) {
                violations.add(new Violation(field, "file:// sources are disabled on this farm"));
            }
            return;
        }
        if (!URL_SCHEMES.contains(scheme)) {
            violations.add(new Violation(field, scheme.isEmpty()
                    ? "'" + abbreviate(url) + "' has no scheme; use an https, http, ssh or git URL (scp-like user@host:path is not accepted)"
                    : "scheme '" + scheme + "' is not allowed; use https, http, ssh or git"));
            return;
        }
        String authority = uri.getRawAuthority() == null ? "" : uri.getRawAuthority();
        int at = authority.lastIndexOf('@');
        String user = at < 0 ? "" : authority.substring(0, at);
        String hostAndPort = authority.substring(at + 1);
        if (hostAndPort.startsWith("-")) {
            violations.add(new Violation(field, "the host '" + abbreviate(hostAndPort) + "' starts with '-', which ssh reads as an option"));
        } else if (user.startsWith("-")) {
            violations.add(new Violation(field, "the user '" + abbreviate(user) + "' starts with '-', which ssh reads as an option"));
        } else if (uri.getHost() == null) {
            violations.add(new Violation(field, "'" + abbreviate(url) + "' has no valid host"));
        } else {
            SourceHosts.literalRefusal(uri.getHost()).ifPresent(why -> violations.add(new Violation(field,
                    "the host " + why + ", which a source may not name")));
        }
    }

    static boolean isSafeRef(String ref) {
        if (ref.length() > 255 || ref.startsWith("-") || ref.startsWith("/") || ref.endsWith("/")
                || ref.endsWith(".") || ref.endsWith(".lock") || ref.contains("..") || ref.contains("//")
                || ref.contains("@{")) {
            return false;
        }
        return ref.chars().noneMatch(c -> c <= 0x20 || c == 0x7f || "~^:?*[\\".indexOf(c) >= 0);
    }

    private String checkDirectory(String directory, List<Violation> violations) {
        String dir = directory.strip();
        if (dir.isEmpty() || dir.equals(".") || dir.equals("./")) {
            return "";
        }
        if (dir.length() > MAX_DIRECTORY || dir.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            violations.add(new Violation("spec.dockerfile_directory", "'" + abbreviate(directory)
                    + "' must be at most " + MAX_DIRECTORY + " characters without control characters"));
            return dir;
        }
        if (dir.startsWith("/") || dir.contains("\\") || dir.contains("\0")) {
            violations.add(new Violation("spec.dockerfile_directory", "'" + abbreviate(directory)
                    + "' must be a relative path inside the repository"));
            return dir;
        }
        List<String> parts = new ArrayList<>();
        for (String part : dir.split("/")) {
            if (part.equals("..")) {
                violations.add(new Violation("spec.dockerfile_directory", "'" + abbreviate(directory)
                        + "' leaves the repository ('..' is not allowed)"));
                return dir;
            }
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return String.join("/", parts);
    }

    private String checkDockerfileName(String name, List<Violation> violations) {
        if (name.isEmpty()) {
            return DEFAULT_DOCKERFILE;
        }
        if (name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")
                || name.length() > 255 || name.chars().anyMatch(c -> c < 0x20)) {
            violations.add(new Violation("spec.dockerfile_name", "'" + abbreviate(name)
                    + "' must be a file name inside dockerfile_directory, without '/'"));
        }
        return name;
    }

    private List<String> checkPlatforms(List<String> platforms, List<Violation> violations) {
        if (platforms.isEmpty()) {
            violations.add(new Violation("spec.platforms", "at least one platform is required; use one of " + Platform.supportedNames()));
            return List.of();
        }
        Map<Platform, String> seen = new HashMap<>();
        Set<Platform> result = new LinkedHashSet<>();
        for (int i = 0; i < platforms.size(); i++) {
            String value = platforms.get(i);
            try {
                Platform platform = Platform.parse(value);
                String earlier = seen.putIfAbsent(platform, value);
                if (earlier != null) {
                    violations.add(new Violation("spec.platforms[" + i + "]", "'" + value + "' duplicates '" + earlier
                            + "' (both are " + platform + ")"));
                }
                result.add(platform);
            } catch (IllegalArgumentException e) {
                violations.add(new Violation("spec.platforms[" + i + "]", e.getMessage()));
            }
        }
        // Stored in the farm's fixed order so equal requests are equal specs.
        return Platform.SUPPORTED.stream().filter(result::contains).map(Platform::toString).toList();
    }

    public static boolean isValidRepository(String repository) {
        int slash = repository.indexOf('/');
        if (repository.length() > 255 || slash <= 0) {
            return false;
        }
        return isValidRegistryHost(repository.substring(0, slash)) && isValidPath(repository.substring(slash + 1));
    }

    /** host[:port] as the OCI distribution grammar has it. */
    public static boolean isValidRegistryHost(String host) {
        return REGISTRY_HOST.matcher(host).matches();
    }

    /** One or more repository path components separated by '/'. */
    public static boolean isValidPath(String path) {
        for (String component : path.split("/", -1)) {
            if (!PATH_COMPONENT.matcher(component).matches()) {
                return false;
            }
        }
        return true;
    }

    private void checkRepository(String repository, List<Violation> violations) {
        if (repository.isEmpty()) {
            violations.add(new Violation("spec.repository", "is required, e.g. 127.0.0.1:5000/team/app"));
        } else if (!isValidRepository(repository)) {
            violations.add(new Violation("spec.repository", "'" + abbreviate(repository)
                    + "' must be registry-host[:port]/path with lowercase path components [a-z0-9] separated by '.', '_', '__' or '-' (OCI distribution grammar)"));
        } else if (Namespaces.ofRepository(repository).isEmpty()) {
            violations.add(new Violation("spec.repository", NO_NAMESPACE.formatted(abbreviate(repository))));
        }
    }

    /** The rule a repository without a namespace breaks; %s is the repository. */
    public static final String NO_NAMESPACE =
            "'%s' has no namespace: it must be registry-host[:port]/namespace/name, the first path component naming the namespace that owns it";

    private void checkTags(List<String> tags, List<Violation> violations) {
        if (tags.isEmpty()) {
            violations.add(new Violation("spec.tags", "at least one tag is required"));
        }
        if (tags.size() > MAX_TAGS) {
            violations.add(new Violation("spec.tags", tags.size() + " tags given; at most " + MAX_TAGS + " are supported"));
        }
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < tags.size(); i++) {
            String tag = tags.get(i);
            if (!TAG.matcher(tag).matches()) {
                violations.add(new Violation("spec.tags[" + i + "]", "'" + abbreviate(tag)
                        + "' must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127} (OCI distribution grammar)"));
            } else if (!seen.add(tag)) {
                violations.add(new Violation("spec.tags[" + i + "]", "'" + tag + "' is given twice"));
            }
        }
    }

    private void checkBuildArgs(Map<String, String> args, Map<String, String> secretArgs, List<Violation> violations) {
        if (secretArgs.isEmpty() && args.size() > MAX_BUILD_ARGS) {
            violations.add(new Violation("spec.build_args", args.size() + " build arguments given; at most "
                    + MAX_BUILD_ARGS + " are supported"));
        } else if (args.size() + secretArgs.size() > MAX_BUILD_ARGS) {
            violations.add(new Violation("spec.secret_build_args", args.size() + " build arguments and "
                    + secretArgs.size() + " secret build arguments given; at most " + MAX_BUILD_ARGS + " together are supported"));
        }
        checkArgs("spec.build_args", args, violations);
        checkArgs("spec.secret_build_args", secretArgs, violations);
        secretArgs.keySet().stream().filter(args::containsKey).sorted().forEach(key -> violations.add(new Violation(
                "spec.secret_build_args[" + abbreviate(key) + "]", "is also in build_args; a key may be in only one of them")));
    }

    /** Never quotes a value: a secret one would end up in the error. */
    private void checkArgs(String name, Map<String, String> args, List<Violation> violations) {
        args.keySet().stream().sorted().forEach(key -> {
            String field = name + "[" + abbreviate(key) + "]";
            if (!BUILD_ARG_KEY.matcher(key).matches()) {
                violations.add(new Violation(field, "the key must match [A-Za-z_][A-Za-z0-9_]{0,127}"));
            } else if (AUTOMATIC_ARGS.contains(key)) {
                violations.add(new Violation(field, "is set by the farm for each platform and cannot be overridden"));
            }
            String value = args.get(key);
            if (value.length() > MAX_BUILD_ARG_VALUE) {
                violations.add(new Violation(field, "the value is longer than " + MAX_BUILD_ARG_VALUE + " characters"));
            }
        });
    }

    private static String abbreviate(String value) {
        return value.length() <= 80 ? value : value.substring(0, 77) + "...";
    }
}
