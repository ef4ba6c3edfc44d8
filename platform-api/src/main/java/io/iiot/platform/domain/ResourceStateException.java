package io.iiot.platform.domain;

/** The request is well-formed but the resource's state refuses it. */
public final class ResourceStateException extends RuntimeException {
  public enum Kind {
    /** NOT_FOUND. */
    NOT_FOUND,
    /** ALREADY_EXISTS. */
    ALREADY_EXISTS,
    /** ABORTED: the etag sent is not the current one; re-read and retry. */
    ETAG_MISMATCH
  }

  private final Kind kind;
  private final String resource;

  public ResourceStateException(Kind kind, String resource, String message) {
    super(message);
    this.kind = kind;
    this.resource = resource;
  }

  public static ResourceStateException notFound(String resource) {
    return new ResourceStateException(Kind.NOT_FOUND, resource, resource + " does not exist");
  }

  public static ResourceStateException alreadyExists(String resource) {
    return new ResourceStateException(Kind.ALREADY_EXISTS, resource, resource + " already exists");
  }

  public static ResourceStateException etagMismatch(String resource) {
    return new ResourceStateException(Kind.ETAG_MISMATCH, resource,
        "the etag sent does not match the current etag of " + resource + "; read it again and retry");
  }

  public Kind kind() {
    return kind;
  }

  public String resource() {
    return resource;
  }
}
