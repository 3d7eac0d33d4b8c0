/* libwhich.so, built once per search subdirectory: says which copy was loaded. */
const char *which(void)
{
    return WHICH;
}
