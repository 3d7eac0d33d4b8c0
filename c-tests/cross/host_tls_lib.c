/* libcross_host_tls.so: reaches thread-local variables of the program that opens it, one
 * initial-exec (a TPREL relocation against the program's static TLS) and one general-dynamic
 * (DTPMOD/DTPREL through __tls_get_addr with the program's module id). */
extern __thread long host_ie __attribute__((tls_model("initial-exec")));
extern __thread long host_gd;

long *host_ie_addr(void)
{
    return &host_ie;
}

long *host_gd_addr(void)
{
    return &host_gd;
}
