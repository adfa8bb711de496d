import { ServiceError } from '../model/service-error.ts';
import type { JsonApi } from './aws-json.ts';

/**
 * The part of AWS Organizations that CloudTrail's tools call: DescribeOrganization, which
 * `aws cloudtrail validate-logs` uses to find an organization trail's `o-…` folder (facts §5.7; point the
 * CLI's AWS_ENDPOINT_URL_ORGANIZATIONS here). Organizations themselves are managed with the admin API.
 */
export const organizationsApi: JsonApi = {
  targetPrefixes: ['AWSOrganizationsV20161128'],
  signingNames: ['organizations'],
  eventSource: 'organizations.amazonaws.com',
  operations: {
    DescribeOrganization: {
      readOnly: true,
      handle: (ctx) => {
        const org = ctx.services.identity.organizationOf(ctx.caller.principal.accountId);
        if (org === undefined) {
          throw new ServiceError(
            'AWSOrganizationsNotInUseException',
            'Your account is not a member of an organization. Create one, or be added to one, with the admin API.',
          );
        }
        const mgmt = org.managementAccountId;
        return {
          Organization: {
            Id: org.organizationId,
            Arn: `arn:aws:organizations::${mgmt}:organization/${org.organizationId}`,
            FeatureSet: 'ALL',
            MasterAccountArn: `arn:aws:organizations::${mgmt}:account/${org.organizationId}/${mgmt}`,
            MasterAccountId: mgmt,
            MasterAccountEmail: `${mgmt}@opentrail.local`,
            AvailablePolicyTypes: [],
          },
        };
      },
    },
  },
};
