package dev.buildfarm.controller.build;

import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.admission.SubmitRateLimiter;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.context.ContextStore;
import dev.buildfarm.controller.source.GitRefResolver;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.exception.ConstraintViolationException;

/**
 * The one way a build comes to exist, whoever asks (SubmitBuild, a build rule, a push): validate,
 * answer a repeated request_id with the earlier build, resolve the ref to one commit, store the build
 * with its jobs, wake the relay.
 */
@ApplicationScoped
public class BuildSubmission {

    @Inject
    BuildStore store;

    @Inject
    GitRefResolver refs;

    @Inject
    ContextStore contexts;

    @Inject
    SubmitRateLimiter rate;

    @Inject
    SecretBuildArgs secrets;

    @ConfigProperty(name = "buildfarm.sources.allow-file-urls")
    boolean allowFileUrls;

    public BuildSpecValidator validator() {
        return new BuildSpecValidator(allowFileUrls);
    }

    /** The build of a submission, and whether this call created it rather than an earlier one with its request_id. */
    public record Submitted(BuildEntity build, boolean created) {
    }

    public BuildEntity submit(String requestId, BuildSpec requested, Trigger trigger) {
        return submitOrFind(requestId, requested, trigger).build();
    }

    public Submitted submitOrFind(String requestId, BuildSpec requested, Trigger trigger) {
        BuildSpecValidator validator = validator();
        validator.validateRequestId(requestId);
        BuildSpec validated = validator.validate(requested);
        if (trigger.getKind() == Trigger.Kind.API) {
            // Callers of SubmitBuild share their namespace's submit rate; rules fire at the pace of pushes.
            rate.acquire(validated.getRepository());
        }
        // From here on only the masked spec is kept; the secret values travel sealed.
        Map<String, String> secretValues = validated.getSecretBuildArgsMap();
        BuildSpec spec = SecretBuildArgs.masked(validated);
        if (!requestId.isEmpty()) {
            Optional<BuildEntity> earlier = store.findByRequestId(BuildStore.namespaceOf(spec.getRepository()), requestId);
            if (earlier.isPresent()) {
                return new Submitted(sameRequest(earlier.get(), spec, secretValues), false);
            }
        }
        String commit;
        if (!spec.getContextDigest().isEmpty()) {
            if (contexts.find(spec.getContextDigest()).isEmpty()) {
                throw ApiError.failedPrecondition("CONTEXT_NOT_FOUND", "spec.context_digest",
                        "no context " + spec.getContextDigest() + " was uploaded; upload it with UploadContext first");
            }
            commit = ""; // an uploaded context has no commit
        } else {
            commit = spec.getSource().getCommit().isEmpty()
                    ? refs.resolve(spec.getSource().getUrl(), spec.getSource().getRef())
                    : spec.getSource().getCommit();
        }
        try {
            return new Submitted(store.create(requestId, spec, commit, trigger, secrets.seal(secretValues)), true);
        } catch (RuntimeException e) {
            if (isUniqueViolation(e) && !requestId.isEmpty()) {
                // The same request raced with itself: the other one won.
                return new Submitted(sameRequest(store.findByRequestId(BuildStore.namespaceOf(spec.getRepository()), requestId).orElseThrow(() -> e), spec, secretValues), false);
            }
            throw e;
        }
    }

    private BuildEntity sameRequest(BuildEntity earlier, BuildSpec spec, Map<String, String> secretValues) {
        if (!BuildMapper.specFromJson(earlier.spec).equals(spec) || !secrets.open(earlier.sealedSecrets).equals(secretValues)) {
            throw ApiError.invalid("request_id", "'" + earlier.requestId + "' was already used for "
                    + earlier.name() + " with a different spec; use a new request_id");
        }
        return earlier;
    }

    private static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConstraintViolationException) {
                return true;
            }
        }
        return false;
    }
}
