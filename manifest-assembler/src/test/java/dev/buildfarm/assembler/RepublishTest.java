package dev.buildfarm.assembler;

import static dev.buildfarm.assembler.TestRegistry.newRepository;
import static dev.buildfarm.assembler.TestRegistry.pushImage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.IndexChild;
import dev.buildfarm.api.v1.PublishIndexRequest;
import dev.buildfarm.assembler.registry.RegistryClient;
import dev.buildfarm.assembler.registry.Repository;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A publication repeated with the same children (the controller lost the answer, or restarted) on the
 * real registry: the index is the same and a tag that already names it is not written again, so each
 * tag moves at most once.
 */
class RepublishTest {

    /** Every manifest PUT, as "reference", in order. */
    private final List<String> puts = Collections.synchronizedList(new ArrayList<>());
    private final RegistryClient counting = new RegistryClient(new RegistryClient.Settings(Set.of(TestRegistry.HOST), 3,
            Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofSeconds(30))) {
        @Override
        public String putManifest(Repository repo, String reference, String mediaType, byte[] bytes) {
            puts.add(reference);
            return super.putManifest(repo, reference, mediaType, bytes);
        }
    };

    @BeforeAll
    static void registryIsUp() {
        TestRegistry.requireReachable();
    }

    @Test
    void republishingTheSameIndexMovesNoTag() {
        Repository repo = newRepository();
        String amd64 = pushImage(repo, "amd64", "");
        String arm64 = pushImage(repo, "arm64", "");
        PublishIndexRequest request = PublishIndexRequest.newBuilder().setRepository(repo.toString())
                .addTags("main").addTags("latest")
                .addChildren(IndexChild.newBuilder().setPlatform("linux/amd64").setDigest(amd64))
                .addChildren(IndexChild.newBuilder().setPlatform("linux/arm64").setDigest(arm64))
                .build();
        IndexPublisher publisher = new IndexPublisher(counting);

        String first = publisher.publish(request).getIndexDigest();
        assertThat(puts).containsExactly(first, "main", "latest");
        puts.clear();
        String again = publisher.publish(request).getIndexDigest();
        assertThat(again).isEqualTo(first);
        assertThat(puts).as("tag writes on the second publication").containsExactly(first);

        // Another set of children is another index: the tags move to it, once each.
        puts.clear();
        String amd64Only = publisher.publish(request.toBuilder().clearChildren()
                .addChildren(IndexChild.newBuilder().setPlatform("linux/amd64").setDigest(amd64)).build()).getIndexDigest();
        assertThat(puts).containsExactly(amd64Only, "main", "latest");
    }
}
