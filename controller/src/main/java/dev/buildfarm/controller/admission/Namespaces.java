package dev.buildfarm.controller.admission;

/**
 * The namespace of a build: the first path component of its repository, as in
 * {@code host/namespace/name}. Admission limits and the submit rate are counted per namespace.
 */
final class Namespaces {

    /** The same rule in SQL, over {@code build.repository}. */
    static final String SQL = "split_part(b.repository, '/', 2)";

    private Namespaces() {
    }

    static String ofRepository(String repository) {
        String[] parts = repository.split("/", 3);
        return parts.length < 2 ? "" : parts[1];
    }
}
