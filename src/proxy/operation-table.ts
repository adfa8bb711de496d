/**
 * The shape of `operations.generated.json`: per signing name, how to recognise each operation of a service
 * the recording proxy forwards to, and how CloudTrail records it. Generated from botocore's models by
 * `npm run generate:model` (scripts/proxy-operations.ts); a test checks it for drift.
 */
export interface OperationTable {
  services: Record<string, ProxiedService>;
}

export interface ProxiedService {
  /** botocore's name for the model, e.g. `stepfunctions` for signing name `states`. */
  model: string;
  apiVersion: string;
  protocol: string;
  protocols?: string[];
  targetPrefix?: string;
  eventSource: string;
  /** The resource type of the service's data events (`AWS::S3::Object`), when it has any. */
  dataResourceType?: string;
  /** Member and wire names whose values are secret: never recorded. */
  sensitive: string[];
  /** Member and wire names of timestamps, which CloudTrail writes in its own way (recorded-members.ts). */
  timestamps: string[];
  /** Member and wire names that are maps wherever they occur: their keys are recorded as sent. */
  maps: string[];
  /** For the query and EC2 protocols, which carry values as text: names of number, boolean and list members. */
  numbers?: string[];
  booleans?: string[];
  lists?: string[];
  operations: Record<string, ProxiedOperation>;
}

export interface ProxiedOperation {
  method: string;
  /** The request URI's path template, e.g. `/{Bucket}/{Key+}`. */
  path: string;
  /** Literal query members of the request URI (`?list-type=2` → {"list-type": "2"}). */
  query?: Record<string, string>;
  /** Query parameters and (lower-case) headers the operation requires: they tell apart operations on one route. */
  requiredQuery?: string[];
  requiredHeaders?: string[];
  /** Non-body members: [location, wire name, member name]. */
  bind?: [string, string, string][];
  readOnly: boolean;
  /** A data event (CloudTrail User Guide); otherwise a management event. */
  data?: true;
  /** CloudTrail's eventName where it is not the operation's name. */
  eventName?: string;
}
