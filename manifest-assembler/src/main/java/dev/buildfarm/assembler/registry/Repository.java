package dev.buildfarm.assembler.registry;

import java.util.regex.Pattern;

/**
 * A repository in a registry, "host[:port]/path", checked against the OCI distribution reference
 * grammar. The host is mandatory: "library/hello" would silently mean Docker Hub elsewhere.
 */
public record Repository(String host, String path) {
    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static final Pattern HOST = Pattern.compile(DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*(?::([0-9]{1,5}))?");
    private static final Pattern PATH_COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*");
    /** Distribution refuses longer names. */
    private static final int MAX_NAME_LENGTH = 255;

    /** @throws IllegalArgumentException naming the rule that {@code text} breaks */
    public static Repository parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("is required, as host[:port]/path");
        }
        if (text.length() > MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("must be at most " + MAX_NAME_LENGTH + " characters");
        }
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("must be host[:port]/path, got no path in \"" + text + "\"");
        }
        String host = text.substring(0, slash);
        String path = text.substring(slash + 1);
        var hostMatch = HOST.matcher(host);
        if (!hostMatch.matches()) {
            throw new IllegalArgumentException("host \"" + host + "\" is not a valid registry host[:port]");
        }
        // As in docker's reference parser: only a first component with '.', ':' or "localhost" is a host.
        if (!host.contains(".") && !host.contains(":") && !host.equals("localhost")) {
            throw new IllegalArgumentException("must start with a registry host (containing '.' or ':', or localhost), got \"" + host + "\"");
        }
        if (hostMatch.group(1) != null) {
            int port = Integer.parseInt(hostMatch.group(1));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is out of range");
            }
        }
        if (path.isEmpty()) {
            throw new IllegalArgumentException("must name a path after the host");
        }
        for (String component : path.split("/", -1)) {
            if (!PATH_COMPONENT.matcher(component).matches()) {
                throw new IllegalArgumentException("path component \"" + component
                        + "\" must match [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)* (lowercase, no leading/trailing separators)");
            }
        }
        return new Repository(host, path);
    }

    @Override
    public String toString() {
        return host + "/" + path;
    }
}
