package io.iiot.resolver.domain;

/** A reference to one value of a handle: {@code index:handle}. Used by value references, HS_ADMIN and HS_VLIST. */
public record ValueReference(String handle, int index) {
  @Override
  public String toString() {
    return index + ":" + handle;
  }
}
