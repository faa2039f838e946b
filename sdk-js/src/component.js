// The plugin side (inside the component only: it imports the host's interfaces, which exist
// only there). `importhook-build-js` generates the component's entry module:
//
//   import strategy from './strategy/<your module>';
//   import { exportStrategy } from './importhook-sdk/component.js';
//   export const strategy = exportStrategy(strategy);
//
// Each host capability is a WIT interface of its own, imported here only: a strategy that
// does not use one does not import it. The imports name no version: the build pins them to
// the version of the WIT it builds against, so the version is written in the WIT file only.

import { log as hostLog, panicked } from 'importhook:plugin/log';
import { entries as configEntries } from 'importhook:plugin/config';
import { Outcome, Request, StrategyError, fromWit, readConfig, setLogSink } from './index.js';

setLogSink((level, message) => hostLog(level, message));

// The `[config]` table does not change for the life of an instance: read it by the strategy's
// schema once, lazily (never at build time, when the host is not there).
let settings;
function hostSettings(strategy) {
  if (!settings) settings = readConfig(strategy.config, configEntries().map((a) => [a.name, fromWit(a.value)]));
  return settings;
}

function describe(error) {
  if (error instanceof Error) return error.stack ? `${error}\n${error.stack}` : String(error);
  return `uncaught ${typeof error}: ${String(error)}`;
}

// A StrategyError is the call's `err` (a string thrown from a result-returning export); any
// other exception is a panic: the host is told why, then the call traps.
function guard(run) {
  try {
    return run();
  } catch (error) {
    if (error instanceof StrategyError) throw error.message;
    panicked(describe(error));
    throw error instanceof Error ? error : new Error(describe(error));
  }
}

/** The contract's `strategy` export for a strategy `{ config?, transform, validateConfig? }`. */
export function exportStrategy(strategy) {
  return {
    transform(resource) {
      return guard(() => {
        const outcome = strategy.transform(new Request(resource), hostSettings(strategy));
        if (!(outcome instanceof Outcome)) {
          throw new TypeError('transform must return an Outcome (new Outcome())');
        }
        return outcome.toWit();
      });
    },
    validateConfig() {
      return guard(() => {
        const read = hostSettings(strategy);
        if (strategy.validateConfig) strategy.validateConfig(read);
      });
    },
  };
}
