import { describeError, PermanentError, TransientError } from './errors';

describe('describeError', () => {
  it('follows the cause chain', () => {
    const err = new TransientError('cannot read Secret shop/aws', {
      cause: new Error('connect ECONNREFUSED 127.0.0.1:6443'),
    });
    expect(describeError(err)).toBe(
      'cannot read Secret shop/aws: connect ECONNREFUSED 127.0.0.1:6443',
    );
  });

  it('says a cause once when the wrapper already quotes it', () => {
    const sdk = Object.assign(new Error('No hosted zone found with ID: Z0000'), {
      name: 'NoSuchHostedZone',
    });
    const err = new PermanentError(
      'HostedZoneNotFound',
      'route53 ListResourceRecordSets: NoSuchHostedZone: No hosted zone found with ID: Z0000',
      { cause: sdk },
    );
    expect(describeError(err)).toBe(
      'route53 ListResourceRecordSets: NoSuchHostedZone: No hosted zone found with ID: Z0000',
    );
  });

  it('describes non-Error values', () => {
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ code: 7 })).toBe('{"code":7}');
  });
});
