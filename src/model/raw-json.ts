/**
 * JSON text made by the code that answers (LookupEvents' page), written into the API answer as it is: the
 * API's serialiser would walk every member of it again.
 */
export class RawJson {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}
