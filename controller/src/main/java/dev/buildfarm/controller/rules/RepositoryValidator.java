package dev.buildfarm.controller.rules;

import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.common.Namespaces;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.api.ApiError.Violation;
import dev.buildfarm.controller.build.BuildSpecValidator;
import java.util.ArrayList;
import java.util.List;

/** Checks an image repository and its git source binding; throws INVALID_ARGUMENT naming each field. */
public final class RepositoryValidator {

    static final int MIN_SECRET = 8;
    static final int MAX_SECRET = 256;
    static final int MAX_CREDENTIAL = 1024;

    private final BuildSpecValidator specs;

    public RepositoryValidator(BuildSpecValidator specs) {
        this.specs = specs;
    }

    /**
     * @param checkSecrets whether the request sets the secrets (they are input only, so an update
     *     that leaves them alone carries none)
     */
    public void validate(Repository repository, String field, boolean checkSecrets) {
        List<Violation> violations = new ArrayList<>();
        if (repository.getImage().isEmpty()) {
            violations.add(new Violation(field + ".image", "is required, e.g. 127.0.0.1:5000/team/app"));
        } else if (!BuildSpecValidator.isValidRepository(repository.getImage())) {
            violations.add(new Violation(field + ".image", "'" + RuleNames.abbreviate(repository.getImage())
                    + "' must be registry-host[:port]/path with lowercase path components (OCI distribution grammar)"));
        } else if (Namespaces.ofRepository(repository.getImage()).isEmpty()) {
            violations.add(new Violation(field + ".image",
                    BuildSpecValidator.NO_NAMESPACE.formatted(RuleNames.abbreviate(repository.getImage()))));
        }
        String url = repository.getSource().getUrl();
        if (url.isEmpty()) {
            violations.add(new Violation(field + ".source.url", "is required: the git URL the rules build from"));
        } else {
            try {
                specs.validate(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(url).setRef("probe"))
                        .setRepository("probe.invalid/probe/probe").addTags("probe").addPlatforms("linux/amd64").build());
            } catch (ApiError e) {
                e.violations().forEach(v -> violations.add(new Violation(field + v.field().replaceFirst("^spec", ""), v.description())));
            }
        }
        if (checkSecrets) {
            String secret = repository.getSource().getWebhookSecret();
            if (!secret.isEmpty() && (secret.length() < MIN_SECRET || secret.length() > MAX_SECRET
                    || secret.chars().anyMatch(Character::isISOControl))) {
                violations.add(new Violation(field + ".source.webhook_secret", "must be " + MIN_SECRET + " to " + MAX_SECRET
                        + " characters without control characters"));
            }
            SourceCredentials credentials = repository.getSource().getCredentials();
            if (!credentials.getUsername().isEmpty() || !credentials.getPassword().isEmpty()) {
                check(credentials.getUsername(), field + ".source.credentials.username", violations);
                check(credentials.getPassword(), field + ".source.credentials.password", violations);
            }
        }
        if (!violations.isEmpty()) {
            throw ApiError.invalid(violations);
        }
    }

    private static void check(String value, String field, List<Violation> violations) {
        if (value.isEmpty() || value.length() > MAX_CREDENTIAL || value.chars().anyMatch(Character::isISOControl)) {
            violations.add(new Violation(field, "is required with credentials: 1 to " + MAX_CREDENTIAL
                    + " characters without control characters"));
        }
    }
}
