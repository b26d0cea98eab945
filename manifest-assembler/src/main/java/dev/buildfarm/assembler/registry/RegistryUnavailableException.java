package dev.buildfarm.assembler.registry;

/** The registry could not be reached, or kept failing (5xx/429), after every retry. */
public class RegistryUnavailableException extends RegistryException {
    public RegistryUnavailableException(String message, Throwable cause) {
        super(0, message, cause);
    }

    public RegistryUnavailableException(int status, String message) {
        super(status, message);
    }
}
