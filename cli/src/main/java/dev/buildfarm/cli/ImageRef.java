package dev.buildfarm.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A {@code -t repo:tag} value. */
record ImageRef(String repository, String tag) {

  /**
   * Splits at the last ':' after the last '/', so a registry port is not mistaken for a tag:
   * {@code 127.0.0.1:5000/demo/hello:main} is repository {@code 127.0.0.1:5000/demo/hello}, tag
   * {@code main}. The tag is required: the build publishes tags, it does not default to latest.
   */
  static ImageRef parse(String reference) {
    if (reference.contains("@")) {
      throw new IllegalArgumentException(
          "'" + reference + "': a digest reference cannot be a build target; use repo:tag");
    }
    int slash = reference.lastIndexOf('/');
    int colon = reference.lastIndexOf(':');
    if (colon <= slash) {
      throw new IllegalArgumentException(
          "'" + reference + "' has no tag; use repo:tag, e.g. 127.0.0.1:5000/demo/hello:main");
    }
    String repository = reference.substring(0, colon);
    String tag = reference.substring(colon + 1);
    if (repository.isEmpty() || tag.isEmpty()) {
      throw new IllegalArgumentException("'" + reference + "': expected repo:tag");
    }
    return new ImageRef(repository, tag);
  }

  @Override
  public String toString() {
    return repository + ":" + tag;
  }

  /** Lets picocli report a bad value as a usage error (exit 2). */
  static final class Converter implements ITypeConverter<ImageRef> {
    @Override
    public ImageRef convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
