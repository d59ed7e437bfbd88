// The gRPC port's credentials: plaintext, TLS, or mutual TLS. The certificate, key and client
// CA files are watched by gRPC's FileWatcherCertificateProvider, so a rotated Kubernetes
// secret is picked up without a restart (the secret's files are swapped atomically).
#ifndef SERVICE_SECURITY_SERVER_TLS_H_
#define SERVICE_SECURITY_SERVER_TLS_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace claude {

struct ServerTlsConfig {
  // PEM files: the server's certificate chain and its private key. Both or neither; neither
  // serves plaintext.
  std::string cert_file;
  std::string key_file;
  // PEM bundle of the CAs whose client certificates are accepted; set: every client must
  // present a certificate that one of them signed (mutual TLS). Needs cert_file.
  std::string client_ca_file;
  // How often the files are checked for a rotation.
  absl::Duration reload_interval = absl::Minutes(1);

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// Checks the files (readable, PEM, the key belongs to the certificate) and returns the
// credentials for the listening port: insecure when TLS is off.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const ServerTlsConfig& tls);

}  // namespace claude

#endif  // SERVICE_SECURITY_SERVER_TLS_H_
