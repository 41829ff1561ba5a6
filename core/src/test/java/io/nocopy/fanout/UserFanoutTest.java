package io.nocopy.fanout;

/** The fan-out contract on the userspace transport (retained slices, gathering writes). */
class UserFanoutTest extends FanoutContract {
  @Override
  TransportKind kind() {
    return TransportKind.USERSPACE;
  }
}
