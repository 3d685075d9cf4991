using System.Reflection;
using Xunit.Sdk;

namespace Mmae.Tests.Kernels;

/// <summary>
/// Theory data from a public static parameterless method, looked up on the test class being
/// run rather than on the class that declares the test. A backend subclass of a shared test
/// harness can then hide the harness's data with its own <c>public static new</c> method of the
/// same name (xunit's MemberData always reads the declaring class).
/// </summary>
/// <param name="methodName">The data method, for example <c>nameof(GemmShapes)</c>.</param>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TestClassDataAttribute(string methodName) : DataAttribute
{
    /// <inheritdoc/>
    /// <exception cref="ArgumentException">No public static parameterless method of that name
    /// returns rows.</exception>
    public override IEnumerable<object?[]> GetData(MethodInfo testMethod)
    {
        Type type = testMethod.ReflectedType ?? testMethod.DeclaringType!;
        const BindingFlags flags =
            BindingFlags.Public | BindingFlags.Static | BindingFlags.FlattenHierarchy;
        MethodInfo? source = type.GetMethod(methodName, flags, Type.EmptyTypes);
        if (source?.Invoke(null, null) is IEnumerable<object?[]> rows)
        {
            return rows;
        }

        throw new ArgumentException(
            $"TestClassData: {type.Name} has no public static method {methodName}() returning "
            + "theory rows", nameof(testMethod));
    }
}
