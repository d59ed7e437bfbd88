#include "service/rpc/stream_relay.h"

namespace claude {

template class BasicStreamRelay<claude::v1::MessageStreamEvent>;
template class BasicStreamRelay<claude::v1::MessageBatchResult>;

}  // namespace claude
