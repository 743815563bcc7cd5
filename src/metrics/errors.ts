import { SpoError, type SpoErrorOptions } from '../lib/errors.js';

/**
 * A failure reading or publishing a node's Prometheus metrics: the endpoint cannot be reached, does
 * not answer in time, answers with something that is not a metrics page, or a page breaks the
 * text exposition format. Codes start with METRICS_ (listed in docs/json.md).
 */
export class MetricsError extends SpoError {
  constructor(code: string, message: string, options: SpoErrorOptions = {}) {
    super(code, message, options);
    this.name = 'MetricsError';
  }
}
