package dev.buildfarm.assembler;

/** A request field breaks a rule; nothing was read from or written to the registry. */
public class InvalidRequestException extends RuntimeException {
    private final String field;
    private final String rule;

    public InvalidRequestException(String field, String rule) {
        super(field + ": " + rule);
        this.field = field;
        this.rule = rule;
    }

    public String field() {
        return field;
    }

    public String rule() {
        return rule;
    }
}
