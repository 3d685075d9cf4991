namespace Mmae.Engine;

internal static class ShapeUtil
{
    public static int Count(int[] shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Shape {Format(shape)} has a negative dimension.");
            }

            count *= d;
            if (count > int.MaxValue)
            {
                throw new ArgumentException($"Shape {Format(shape)} holds more than 2^31 elements.");
            }
        }

        return (int)count;
    }

    public static void CheckCount(int length, int[] shape)
    {
        if (Count(shape) != length)
        {
            throw new ArgumentException(
                $"Tensor.FromArray: shape {Format(shape)} holds {Count(shape)} elements, "
                + $"data has {length}.");
        }
    }

    public static string Format(int[] shape) => "(" + string.Join(", ", shape) + ")";
}
