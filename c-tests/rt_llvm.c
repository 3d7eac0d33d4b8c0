/* libLLVM-14 through relink from a C program that links neither LLVM nor
 * libstdc++: build `i32 add(i32, i32)` with the C API, verify it, print it,
 * dispose of everything and close. Types come from the llvm-c headers; every
 * function is looked up with rl_sym. */
#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>

#include "check.h"

#define LOAD(name) __typeof__(&name) p_##name = SYM(h, __typeof__(&name), #name)

int main(void)
{
    rl_handle *h = rl_open("libLLVM-14.so.1", RL_NOW);
    CHECK(h != NULL, "rl_open(libLLVM-14.so.1)");
    {
        LOAD(LLVMContextCreate);
        LOAD(LLVMContextDispose);
        LOAD(LLVMModuleCreateWithNameInContext);
        LOAD(LLVMDisposeModule);
        LOAD(LLVMInt32TypeInContext);
        LOAD(LLVMFunctionType);
        LOAD(LLVMAddFunction);
        LOAD(LLVMAppendBasicBlockInContext);
        LOAD(LLVMCreateBuilderInContext);
        LOAD(LLVMPositionBuilderAtEnd);
        LOAD(LLVMGetParam);
        LOAD(LLVMBuildAdd);
        LOAD(LLVMBuildRet);
        LOAD(LLVMDisposeBuilder);
        LOAD(LLVMVerifyModule);
        LOAD(LLVMPrintModuleToString);
        LOAD(LLVMDisposeMessage);
        LOAD(LLVMCountParams);
        LOAD(LLVMGetNamedFunction);

        LLVMContextRef ctx = p_LLVMContextCreate();
        LLVMModuleRef mod;
        LLVMTypeRef i32, params[2], fn_type;
        LLVMValueRef fn, sum;
        LLVMBasicBlockRef entry;
        LLVMBuilderRef b;
        char *err = NULL, *text;

        CHECK(ctx != NULL, "LLVMContextCreate");
        mod = p_LLVMModuleCreateWithNameInContext("relink_test", ctx);
        CHECK(mod != NULL, "LLVMModuleCreateWithNameInContext");
        i32 = p_LLVMInt32TypeInContext(ctx);
        params[0] = params[1] = i32;
        fn_type = p_LLVMFunctionType(i32, params, 2, 0);
        fn = p_LLVMAddFunction(mod, "add", fn_type);
        CHECK(fn != NULL && p_LLVMCountParams(fn) == 2, "LLVMAddFunction");
        entry = p_LLVMAppendBasicBlockInContext(ctx, fn, "entry");
        b = p_LLVMCreateBuilderInContext(ctx);
        p_LLVMPositionBuilderAtEnd(b, entry);
        sum = p_LLVMBuildAdd(b, p_LLVMGetParam(fn, 0), p_LLVMGetParam(fn, 1), "sum");
        CHECK(sum != NULL, "LLVMBuildAdd");
        CHECK(p_LLVMBuildRet(b, sum) != NULL, "LLVMBuildRet");
        p_LLVMDisposeBuilder(b);

        CHECK(p_LLVMVerifyModule(mod, LLVMReturnStatusAction, &err) == 0, "LLVMVerifyModule: %s", err ? err : "");
        p_LLVMDisposeMessage(err);
        CHECK(p_LLVMGetNamedFunction(mod, "add") == fn, "LLVMGetNamedFunction");

        text = p_LLVMPrintModuleToString(mod);
        CHECK(text != NULL && strstr(text, "define i32 @add(i32 %0, i32 %1)") != NULL &&
                  strstr(text, "%sum = add i32 %0, %1") != NULL && strstr(text, "ret i32 %sum") != NULL,
              "printed module:\n%s", text ? text : "(null)");
        printf("%s", text);
        p_LLVMDisposeMessage(text);

        /* A module that does not verify: the error comes back as a message. */
        {
            LLVMModuleRef bad = p_LLVMModuleCreateWithNameInContext("bad", ctx);
            LLVMValueRef f = p_LLVMAddFunction(bad, "noret", fn_type);
            p_LLVMAppendBasicBlockInContext(ctx, f, "entry");
            err = NULL;
            CHECK(p_LLVMVerifyModule(bad, LLVMReturnStatusAction, &err) != 0 && err != NULL && err[0] != '\0',
                  "a block without a terminator must not verify");
            p_LLVMDisposeMessage(err);
            p_LLVMDisposeModule(bad);
        }

        p_LLVMDisposeModule(mod);
        p_LLVMContextDispose(ctx);
    }
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
