#include "daemon/dead_letter_sink.h"

#include "stream/kafka_sink.h"

namespace streamrec::daemon {

Status KafkaDeadLetterSink::Send(const stream::Message& original, std::string_view reason) {
  return sink_->ProduceDeadLetter(original, reason);
}

Status KafkaDeadLetterSink::FlushSent(int timeout_ms) {
  return sink_->FlushDeadLetters(timeout_ms);
}

}  // namespace streamrec::daemon
