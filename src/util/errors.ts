/**
 * Failures of this machine, not of the broker: what the CLI prints. `kind` is the short tag the CLI
 * shows after the message; it is not a wire code and never travels to the broker.
 */
export type LocalErrorKind = "invalid_argument" | "not_found" | "conflict" | "config" | "unreachable" | "connection_lost" | "unexpected_answer";

export class LocalError extends Error {
  constructor(
    readonly kind: LocalErrorKind,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A value the user gave is not acceptable (exit 1; the CLI's own usage errors, exit 2, are cli/usage.ts's). */
export class InvalidArgument extends LocalError {
  constructor(message: string) {
    super("invalid_argument", message);
  }
}

/** Something the user named (a mesh, a session, a binary) is not there. */
export class NotFoundError extends LocalError {
  constructor(message: string) {
    super("not_found", message);
  }
}

/** A local file (config, session, settings) is broken; nothing was changed. */
export class ConfigError extends LocalError {
  constructor(message: string) {
    super("config", message);
  }
}

/** The broker could not be reached at all. Worth retrying later. */
export class BrokerUnreachable extends LocalError {
  constructor(message: string) {
    super("unreachable", message);
  }
}

/** The connection dropped, or a request got no answer before it did. Worth retrying on the next connection. */
export class ConnectionLost extends LocalError {
  constructor(message: string) {
    super("connection_lost", message);
  }
}

/** The broker answered something this client cannot read (a version mismatch, a proxy in the way). */
export class UnexpectedAnswer extends LocalError {
  constructor(message: string) {
    super("unexpected_answer", message);
  }
}
