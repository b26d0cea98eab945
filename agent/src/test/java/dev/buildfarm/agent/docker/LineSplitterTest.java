package dev.buildfarm.agent.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {

    @Test
    void joinsChunksIntoLines() {
        List<String> lines = new ArrayList<>();
        LineSplitter splitter = new LineSplitter(lines::add);
        splitter.accept("Step 1/2 : FR");
        splitter.accept("OM x\r\n ---> abc\nStep 2/2");
        splitter.accept(null);
        assertThat(lines).containsExactly("Step 1/2 : FROM x", " ---> abc");
        splitter.flush();
        assertThat(lines).containsExactly("Step 1/2 : FROM x", " ---> abc", "Step 2/2");
    }
}
