package dev.buildfarm.assembler.registry;

/** The registry answered, but not with what was asked for. {@link #status()} is its HTTP status (0 if none). */
public class RegistryException extends RuntimeException {
    private final int status;

    public RegistryException(int status, String message) {
        super(message);
        this.status = status;
    }

    public RegistryException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public boolean isNotFound() {
        return status == 404;
    }
}
