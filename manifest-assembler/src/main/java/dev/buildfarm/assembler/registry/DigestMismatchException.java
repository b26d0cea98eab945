package dev.buildfarm.assembler.registry;

/** The registry returned bytes that do not hash to the digest they were asked for under. */
public class DigestMismatchException extends RegistryException {
    private final String expected;
    private final String actual;

    public DigestMismatchException(String what, String expected, String actual) {
        super(0, what + ": expected digest " + expected + " but the registry returned content with digest " + actual);
        this.expected = expected;
        this.actual = actual;
    }

    public String expected() {
        return expected;
    }

    public String actual() {
        return actual;
    }
}
