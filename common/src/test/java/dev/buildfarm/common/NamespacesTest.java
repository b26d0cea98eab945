package dev.buildfarm.common;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NamespacesTest {

    @Test
    void theFirstPathComponentIsTheNamespace() {
        assertThat(Namespaces.ofRepository("127.0.0.1:5000/team/app")).contains("team");
        assertThat(Namespaces.ofRepository("registry.example.com/team/group/app")).contains("team");
    }

    @Test
    void aRepositoryDirectlyUnderTheHostHasNone() {
        assertThat(Namespaces.ofRepository("127.0.0.1:5000/app")).isEmpty();
        assertThat(Namespaces.ofRepository("127.0.0.1:5000/team/")).isEmpty();
        assertThat(Namespaces.ofRepository("127.0.0.1:5000//app")).isEmpty();
        assertThat(Namespaces.ofRepository("app")).isEmpty();
        assertThat(Namespaces.ofRepository("")).isEmpty();
    }
}
