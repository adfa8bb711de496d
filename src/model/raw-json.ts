/**
 * JSON text made elsewhere (by DuckDB, say), to be written into an API answer as it is: serialising it again
 * from JavaScript values would cost what making it in one place saved.
 */
export class RawJson {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}
