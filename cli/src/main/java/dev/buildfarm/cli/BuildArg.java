package dev.buildfarm.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A {@code --build-arg KEY=VALUE} value. */
record BuildArg(String key, String value) {

  /**
   * Splits at the first '=', so values may contain '='. An empty value ({@code K=}) is a real
   * value, as with docker; an empty key is an error. Unlike docker, {@code K} alone (take the
   * value from the environment) is refused: the build runs on another machine.
   */
  static BuildArg parse(String arg) {
    int eq = arg.indexOf('=');
    if (eq < 0) {
      throw new IllegalArgumentException("'" + arg + "': expected KEY=VALUE");
    }
    if (eq == 0) {
      throw new IllegalArgumentException("'" + arg + "': the key is empty; expected KEY=VALUE");
    }
    return new BuildArg(arg.substring(0, eq), arg.substring(eq + 1));
  }

  /** Lets picocli report a bad value as a usage error (exit 2). */
  static final class Converter implements ITypeConverter<BuildArg> {
    @Override
    public BuildArg convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
