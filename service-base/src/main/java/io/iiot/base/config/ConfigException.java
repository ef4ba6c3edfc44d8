package io.iiot.base.config;

/**
 * A configuration value is missing or malformed. The message names the key, where the value came from and what
 * was expected, so that it can be shown to an operator as it is, without a stack trace.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
