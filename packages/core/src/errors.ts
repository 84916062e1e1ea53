/** Base class so callers can tell mllm's own, explained failures from bugs. */
export class MllmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface ConfigIssue {
  /** JSON path of the offending value, e.g. `connector.depth` or `stages[1].type`. */
  path: string;
  message: string;
}

/** An invalid config; lists every problem found, each with its JSON path. */
export class ConfigError extends MllmError {
  constructor(readonly issues: ConfigIssue[], header = 'Invalid config') {
    super(`${header}:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

/** A checkpoint that is missing, unreadable or does not fit the model; names the file. */
export class CheckpointError extends MllmError {
  constructor(readonly file: string, reason: string) {
    super(`Checkpoint ${file}: ${reason}`);
  }
}
