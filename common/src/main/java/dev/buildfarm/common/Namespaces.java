package dev.buildfarm.common;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which namespace owns an image repository: as in a registry's layout, the first path component of
 * {@code host[:port]/namespace/name[/...]}. A repository directly under the host
 * ({@code host/name}) has none.
 */
public final class Namespaces {

    /** A repository path component (OCI distribution grammar), at most 63 characters. */
    private static final Pattern ID = Pattern.compile("(?=.{1,63}$)[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*");

    /** What {@link #isValid} asks of a namespace id. */
    public static final String RULE = "must be 1 to 63 characters of [a-z0-9] separated by '.', '_', '__' or '-' (a repository path component)";

    private Namespaces() {
    }

    public static boolean isValid(String id) {
        return ID.matcher(id).matches();
    }

    /** The namespace of {@code host/namespace/name[/...]}, or empty when the path has fewer than two components. */
    public static Optional<String> ofRepository(String repository) {
        int host = repository.indexOf('/');
        if (host <= 0) {
            return Optional.empty();
        }
        int namespace = repository.indexOf('/', host + 1);
        if (namespace <= host + 1 || namespace == repository.length() - 1) {
            return Optional.empty();
        }
        return Optional.of(repository.substring(host + 1, namespace));
    }
}
