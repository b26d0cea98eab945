package dev.buildfarm.controller.webhook;

import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.rules.RuleFiring;
import dev.buildfarm.controller.rules.RuleFiring.Outcome;
import dev.buildfarm.controller.rules.RuleFiring.Push;
import dev.buildfarm.controller.rules.RuleStore;
import dev.buildfarm.controller.rules.RuleStore.Source;
import dev.buildfarm.controller.rules.SourceRefs;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * For git servers that cannot send webhooks: every buildfarm.sources.poll-interval (off by default)
 * lists the refs of each auto-building source and fires the rules of every branch or tag that is new
 * or moved since the last look. The first look at a source only records its refs, so turning the
 * poller on does not rebuild every existing tag. Rules fire once per (rule, ref, commit), so a push
 * seen by both a webhook and the poller builds once.
 */
@ApplicationScoped
public class SourcePoller {

    private static final Logger LOG = Logger.getLogger(SourcePoller.class);

    @Inject
    RuleStore rules;

    @Inject
    RuleFiring firing;

    @Inject
    SourceRefs sourceRefs;

    @Inject
    Clock clock;

    @Scheduled(identity = "source-poller", every = "${buildfarm.sources.poll-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void pollAll() {
        for (String id : rules.autoBuildRepositoryIds()) {
            try {
                poll(id);
            } catch (RuntimeException e) {
                // One unreachable source must not stop the others; its refs are not remembered, so it is retried.
                LOG.warnf("polling repositories/%s: %s", id, e.getMessage());
            }
        }
    }

    /** One look at one source: what fired. */
    public List<Outcome> poll(String repositoryId) {
        Optional<Source> found = rules.source(repositoryId);
        if (found.isEmpty()) {
            return List.of();
        }
        Source source = found.get();
        Map<String, String> refs = sourceRefs.list(source.url(), source.credentials());
        List<Outcome> outcomes = new ArrayList<>();
        if (source.lastPollTime() != null && source.autoBuild()) {
            Map<String, String> seen = rules.seenRefs(repositoryId);
            for (Map.Entry<String, String> ref : refs.entrySet()) {
                if (!ref.getValue().equals(seen.get(ref.getKey()))) {
                    outcomes.addAll(firing.fire(source, new Push(ref.getKey(), ref.getValue(), "", clock.instant()),
                            Trigger.Kind.POLL));
                }
            }
        }
        rules.rememberRefs(repositoryId, refs);
        return outcomes;
    }
}
