/** An error answer of opentrail's own JSON APIs; apart from the client so the CLI can catch it without loading it. */
export class JsonApiError extends Error {
  override readonly name = 'JsonApiError';
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status: number) {
    super(`${type}: ${message}`);
    this.type = type;
    this.status = status;
  }
}
