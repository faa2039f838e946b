// The one error a strategy throws on purpose.

/** A failure of this call (transform) or a refused `[config]` (validateConfig), with its reason. */
export class StrategyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'StrategyError';
  }
}
