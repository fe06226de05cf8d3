/**
 * The rights a state machine with a Distributed Map needs on itself: starting its child
 * executions, and describing and stopping them. A separate inline policy, because the role's
 * default policy is a dependency of the state machine (a cycle otherwise).
 */
import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

export function grantDistributedMapRuns(scope: Construct, role: iam.Role, stateMachine: sfn.StateMachine): iam.Policy {
  const stack = Stack.of(scope);
  const executions = Arn.format(
    {
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachine.stateMachineName}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    },
    stack,
  );
  const policy = new iam.Policy(scope, 'DistributedMapPolicy', {
    statements: [
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachine.stateMachineArn] }),
      new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executions] }),
    ],
  });
  role.attachInlinePolicy(policy);
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${stack.getLogicalId(stateMachine.node.defaultChild as sfn.CfnStateMachine)}.Name>/*]`,
    reason: 'Child executions of the Distributed Map get generated names under this state machine only.',
  });
  return policy;
}
